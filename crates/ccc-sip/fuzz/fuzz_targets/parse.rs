//! Any bytes into the SIP parser and every typed accessor: no panic, no hang.
#![no_main]

use ccc_sip::message::{SipUri, parse};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(m) = parse(data) {
        let _ = (m.via(), m.from(), m.to(), m.cseq(), m.max_forwards(), m.expires(), m.content_type());
        for via in m.vias() {
            let _ = via.map(|v| (v.branch(), v.rport(), v.received()));
        }
        for contact in m.contacts().flatten() {
            let _ = contact.sip_uri();
        }
        if let Some(uri) = m.request_uri() {
            let _ = SipUri::parse(uri);
        }
    }
});
