//! WebRTC audio calls for ccc-rs. Not yet built: see the ccc-media issue.
