//! SIP over WebSocket (RFC 7118) user agent for ccc-rs: a sans-IO core and a tokio driver. Not yet built: see the ccc-sip issue.
