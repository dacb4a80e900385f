//! Sequences of messages into the sans-IO user agent (registered, with a call in
//! progress or not), with time moving: no panic, no unbounded growth.
#![no_main]

use std::time::{Duration, Instant};

use ccc_sip::ua::{UaConfig, UserAgent};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let config = UaConfig::new("1001", "secret", "ccc.test", "urn:uuid:00000000-0000-4000-8000-000000000000");
    let mut ua = UserAgent::new(config, 7);
    let mut now = Instant::now();
    ua.handle_flow(now, true);
    ua.register(now);
    // Messages separated by a 0xFF byte; a lone control byte moves time or acts.
    for chunk in data.split(|b| *b == 0xFF) {
        match chunk {
            [0x01] => now += Duration::from_secs(1),
            [0x02] => now += Duration::from_secs(40),
            [0x03] => ua.handle_flow(now, false),
            [0x04] => ua.handle_flow(now, true),
            _ => ua.handle_message(now, chunk),
        }
        ua.handle_timeout(now);
        let mut sent = 0;
        while ua.poll_transmit().is_some() {
            sent += 1;
        }
        assert!(sent < 64, "one input cannot make unbounded output");
        while ua.poll_event().is_some() {}
    }
});
