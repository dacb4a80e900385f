//! Any `name=value` lines as the wire parameters of any action, read back as a server
//! does: a request or a `ParamError`, never a panic; a request read back writes the
//! same parameters again.
#![no_main]

use ccc_openapi::{WireParams, models};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let [pick, rest @ ..] = data else { return };
    let model = models::ALL[usize::from(*pick) % models::ALL.len()];
    let text = String::from_utf8_lossy(rest);
    let wire: WireParams = text
        .lines()
        .filter_map(|line| line.split_once('='))
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect();
    let Some(result) = models::decode_request(model.version, model.name, &wire) else {
        panic!("every model decodes by name");
    };
    if let Ok(params) = result {
        let flat: WireParams = params.to_wire().into_iter().map(|(k, v, _)| (k, v)).collect();
        let again = models::decode_request(model.version, model.name, &flat)
            .expect("known")
            .expect("written parameters read back");
        assert_eq!(again, params);
    }
});
