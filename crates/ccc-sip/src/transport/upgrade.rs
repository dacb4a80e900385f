//! The client side of the WebSocket opening handshake (RFC 6455 section 4.1), with the
//! `sip` subprotocol (RFC 7118).
//!
//! Written here rather than taken from tungstenite's client handshake because that
//! one reads the server's answer through two 4 KiB buffers per connection: with
//! thousands of agents connecting at once, those transient 8 KiB, freed in the middle
//! of the heap, set the resident memory of the whole fleet. This one reads the answer
//! (a few hundred bytes) into a buffer that starts at 512 bytes and may grow to
//! [`MAX_ANSWER`]; the frames that follow are tungstenite's again.

use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio_tungstenite::tungstenite::handshake::client::generate_key;
use tokio_tungstenite::tungstenite::handshake::derive_accept_key;

use super::TransportError;

/// The most the server's answer to the upgrade may take.
const MAX_ANSWER: usize = 8 * 1024;

/// Where the upgrade goes: the `Host` header and the request target.
pub(super) struct Target<'a> {
    pub(super) host: &'a str,
    pub(super) path: &'a str,
}

/// Asks `stream` to upgrade to a WebSocket with the `sip` subprotocol; returns what
/// the server sent after its answer (the start of the first frames).
pub(super) async fn upgrade<S: AsyncRead + AsyncWrite + Unpin>(
    stream: &mut S,
    target: &Target<'_>,
) -> Result<Vec<u8>, TransportError> {
    let key = generate_key();
    let request = format!(
        "GET {} HTTP/1.1\r\nHost: {}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
         Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Protocol: sip\r\n\r\n",
        target.path, target.host
    );
    stream.write_all(request.as_bytes()).await?;
    stream.flush().await?;
    let mut answer = Vec::with_capacity(512);
    let head_end = loop {
        if let Some(end) = answer.windows(4).position(|w| w == b"\r\n\r\n") {
            break end + 4;
        }
        if answer.len() >= MAX_ANSWER {
            return Err(TransportError::Handshake(format!(
                "an answer of more than {MAX_ANSWER} bytes"
            )));
        }
        if answer.capacity() == answer.len() {
            answer.reserve(answer.len().min(MAX_ANSWER - answer.len()));
        }
        if stream.read_buf(&mut answer).await? == 0 {
            return Err(TransportError::Handshake(
                "the server closed the connection during the upgrade".into(),
            ));
        }
    };
    check_answer(&answer[..head_end], &derive_accept_key(key.as_bytes()))?;
    Ok(answer.split_off(head_end))
}

/// Checks the server's answer: 101, `Upgrade: websocket`, `Connection: upgrade`, the
/// right `Sec-WebSocket-Accept`, and the `sip` subprotocol.
fn check_answer(head: &[u8], accept: &str) -> Result<(), TransportError> {
    let head = std::str::from_utf8(head)
        .map_err(|_| TransportError::Handshake("an answer that is not text".into()))?;
    let mut lines = head.split("\r\n");
    let status = lines.next().unwrap_or("");
    let mut parts = status.splitn(3, ' ');
    let (version, code) = (parts.next().unwrap_or(""), parts.next().unwrap_or(""));
    if !version.starts_with("HTTP/1.") {
        return Err(TransportError::Handshake(format!(
            "not an HTTP answer: {status:?}"
        )));
    }
    if code != "101" {
        return Err(TransportError::Handshake(format!(
            "the server answered {status:?}"
        )));
    }
    let (mut upgrade, mut connection, mut accepted, mut sip) = (false, false, false, false);
    for line in lines.filter(|l| !l.is_empty()) {
        let Some((name, value)) = line.split_once(':') else {
            return Err(TransportError::Handshake(format!(
                "a header line without a colon: {line:?}"
            )));
        };
        let (name, value) = (name.trim(), value.trim());
        if name.eq_ignore_ascii_case("upgrade") {
            upgrade = value.eq_ignore_ascii_case("websocket");
        } else if name.eq_ignore_ascii_case("connection") {
            connection = value
                .split(',')
                .any(|t| t.trim().eq_ignore_ascii_case("upgrade"));
        } else if name.eq_ignore_ascii_case("sec-websocket-accept") {
            accepted = value == accept;
        } else if name.eq_ignore_ascii_case("sec-websocket-protocol") {
            sip = value.eq_ignore_ascii_case("sip");
        }
    }
    if !(upgrade && connection) {
        return Err(TransportError::Handshake(
            "the answer does not upgrade to websocket".into(),
        ));
    }
    if !accepted {
        return Err(TransportError::Handshake(
            "a wrong Sec-WebSocket-Accept".into(),
        ));
    }
    if !sip {
        return Err(TransportError::NoSipSubprotocol);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    const ACCEPT: &str = "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=";

    fn answer(lines: &str) -> String {
        format!("HTTP/1.1 101 Switching Protocols\r\n{lines}\r\n")
    }

    #[test]
    fn the_rfc_6455_example_key() {
        assert_eq!(derive_accept_key(b"dGhlIHNhbXBsZSBub25jZQ=="), ACCEPT);
    }

    #[test]
    fn answers_are_checked() {
        let good = answer(&format!(
            "Upgrade: WebSocket\r\nConnection: keep-alive, Upgrade\r\nSec-WebSocket-Accept: {ACCEPT}\r\nSec-WebSocket-Protocol: sip\r\n"
        ));
        assert!(check_answer(good.as_bytes(), ACCEPT).is_ok());
        let no_sip = answer(&format!(
            "Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: {ACCEPT}\r\n"
        ));
        assert!(matches!(
            check_answer(no_sip.as_bytes(), ACCEPT),
            Err(TransportError::NoSipSubprotocol)
        ));
        let wrong_key = answer(
            "Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: x\r\nSec-WebSocket-Protocol: sip\r\n",
        );
        assert!(check_answer(wrong_key.as_bytes(), ACCEPT).is_err());
        let refused = "HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n";
        let err = check_answer(refused.as_bytes(), ACCEPT).unwrap_err();
        assert!(err.to_string().contains("404"), "{err}");
        assert!(check_answer(b"SIP/2.0 200 OK\r\n\r\n", ACCEPT).is_err());
        assert!(check_answer(b"HTTP/1.1 101 x\r\nbroken\r\n\r\n", ACCEPT).is_err());
    }
}
