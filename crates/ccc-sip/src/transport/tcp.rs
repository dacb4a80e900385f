//! [`TcpFlow`]: one SIP flow on a plain TCP connection, the framing of RFC 3261 section
//! 18.3 (each message's `Content-Length` says where it ends), for SIPp and proxies that
//! reach the server side without a WebSocket.

use std::net::SocketAddr;

use bytes::{Bytes, BytesMut};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use super::{Frame, TransportError};

/// Cuts a byte stream into SIP messages and RFC 5626 keep-alives. Sans-IO: push what
/// arrived, take frames until `Ok(None)`.
#[derive(Debug)]
pub struct StreamFramer {
    buffer: BytesMut,
    max_message_size: usize,
    /// How much of the buffer is known to hold no end of head: a message that arrives
    /// in small pieces is searched once, not once per piece.
    searched: usize,
}

impl StreamFramer {
    /// A framer that refuses messages of more than `max_message_size` bytes.
    pub fn new(max_message_size: usize) -> Self {
        Self {
            buffer: BytesMut::new(),
            max_message_size,
            searched: 0,
        }
    }

    /// Bytes that arrived.
    pub fn push(&mut self, bytes: &[u8]) {
        self.buffer.extend_from_slice(bytes);
    }

    /// The buffer to read into directly (see [`StreamFramer::push`]).
    pub(crate) fn buffer(&mut self) -> &mut BytesMut {
        &mut self.buffer
    }

    /// The next whole frame, `Ok(None)` when more bytes are needed. An error ends the
    /// stream: a message without `Content-Length`, or too large.
    pub fn next_frame(&mut self) -> Result<Option<Frame>, TransportError> {
        // Keep-alives (RFC 5626 3.5.1): CRLF CRLF pings, a CRLF answers one.
        if self.buffer.starts_with(b"\r\n\r\n") {
            let _ = self.buffer.split_to(4);
            self.searched = 0;
            return Ok(Some(Frame::CrlfPing));
        }
        if self.buffer.starts_with(b"\r\n") {
            match self.buffer.get(2) {
                // Maybe the start of a ping that is still arriving.
                Some(b'\r') if self.buffer.len() < 4 => return Ok(None),
                _ => {
                    let _ = self.buffer.split_to(2);
                    self.searched = 0;
                    return Ok(Some(Frame::CrlfPong));
                }
            }
        }
        // The end of the head may straddle what was searched already: back up 3 bytes.
        let from = self.searched.saturating_sub(3);
        let Some(head_end) = find(&self.buffer[from..], b"\r\n\r\n").map(|at| from + at) else {
            if self.buffer.len() > self.max_message_size {
                return Err(TransportError::MessageTooLarge(self.max_message_size));
            }
            self.searched = self.buffer.len();
            return Ok(None);
        };
        let length = content_length(&self.buffer[..head_end])?;
        // A Content-Length near usize::MAX must not wrap around.
        let total = length
            .checked_add(head_end + 4)
            .filter(|total| *total <= self.max_message_size)
            .ok_or(TransportError::MessageTooLarge(self.max_message_size))?;
        if self.buffer.len() < total {
            self.searched = head_end;
            return Ok(None);
        }
        self.searched = 0;
        Ok(Some(Frame::Message(self.buffer.split_to(total).freeze())))
    }
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

/// The `Content-Length` (or `l`) of a message head; on a stream it must be there.
fn content_length(head: &[u8]) -> Result<usize, TransportError> {
    let mut found = None;
    for line in head.split(|b| *b == b'\n').skip(1) {
        let Some(colon) = line.iter().position(|b| *b == b':') else {
            continue;
        };
        let name = String::from_utf8_lossy(&line[..colon]);
        let name = name.trim();
        if name.eq_ignore_ascii_case("content-length") || name.eq_ignore_ascii_case("l") {
            let value = String::from_utf8_lossy(&line[colon + 1..]);
            let length = value
                .trim()
                .parse::<usize>()
                .map_err(|_| TransportError::Framing("a Content-Length that is not a number"))?;
            if found.is_some_and(|f| f != length) {
                return Err(TransportError::Framing("two Content-Lengths that differ"));
            }
            found = Some(length);
        }
    }
    found.ok_or(TransportError::Framing(
        "a message without Content-Length on a stream",
    ))
}

/// One SIP flow on a TCP connection: whole messages in and out.
#[derive(Debug)]
pub struct TcpFlow {
    stream: TcpStream,
    framer: StreamFramer,
    local: SocketAddr,
    peer: SocketAddr,
}

impl TcpFlow {
    /// The flow on an accepted (or connected) `stream`.
    pub fn new(stream: TcpStream, max_message_size: usize) -> Result<Self, TransportError> {
        let (local, peer) = (stream.local_addr()?, stream.peer_addr()?);
        Ok(Self {
            stream,
            framer: StreamFramer::new(max_message_size),
            local,
            peer,
        })
    }

    /// This end's address.
    pub fn local_addr(&self) -> SocketAddr {
        self.local
    }

    /// The peer's address.
    pub fn peer_addr(&self) -> SocketAddr {
        self.peer
    }

    /// The next frame, or `None` once the peer closed the connection. Bound the wait
    /// with a timeout.
    pub async fn recv(&mut self) -> Result<Option<Frame>, TransportError> {
        loop {
            if let Some(frame) = self.framer.next_frame()? {
                return Ok(Some(frame));
            }
            let buffer = self.framer.buffer();
            buffer.reserve(4096);
            if self.stream.read_buf(buffer).await? == 0 {
                return Ok(None);
            }
        }
    }

    /// Sends one SIP message (or keep-alive bytes).
    pub async fn send(&mut self, message: impl Into<Bytes>) -> Result<(), TransportError> {
        self.stream.write_all(&message.into()).await?;
        Ok(())
    }

    /// Closes the connection.
    pub async fn close(&mut self) {
        let _ = self.stream.shutdown().await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_and_keepalives_are_cut_from_the_stream() {
        let mut framer = StreamFramer::new(1024);
        let message = b"OPTIONS sip:a SIP/2.0\r\nl: 4\r\n\r\nbody";
        framer.push(b"\r\n\r\n");
        framer.push(&message[..10]);
        assert_eq!(framer.next_frame().unwrap(), Some(Frame::CrlfPing));
        assert_eq!(framer.next_frame().unwrap(), None);
        framer.push(&message[10..]);
        framer.push(b"\r\nSIP/2.0 200 OK\r\nContent-Length: 0\r\n\r\n");
        assert_eq!(
            framer.next_frame().unwrap(),
            Some(Frame::Message(Bytes::from_static(message)))
        );
        assert_eq!(framer.next_frame().unwrap(), Some(Frame::CrlfPong));
        assert!(
            matches!(framer.next_frame().unwrap(), Some(Frame::Message(m)) if m.starts_with(b"SIP/2.0 200"))
        );
        assert_eq!(framer.next_frame().unwrap(), None);
    }

    #[test]
    fn bad_framing_is_an_error() {
        let mut framer = StreamFramer::new(64);
        framer.push(b"OPTIONS sip:a SIP/2.0\r\nVia: x\r\n\r\n");
        assert!(matches!(
            framer.next_frame(),
            Err(TransportError::Framing(_))
        ));
        let mut framer = StreamFramer::new(64);
        framer.push(b"OPTIONS sip:a SIP/2.0\r\nContent-Length: 100\r\n\r\n");
        assert!(matches!(
            framer.next_frame(),
            Err(TransportError::MessageTooLarge(64))
        ));
        let mut framer = StreamFramer::new(64);
        framer.push(&[b'x'; 65]);
        assert!(framer.next_frame().is_err(), "no end of head in the limit");
        let mut framer = StreamFramer::new(64);
        framer.push(b"A sip:a SIP/2.0\r\nl: 1\r\nContent-Length: 2\r\n\r\nab");
        assert!(framer.next_frame().is_err());
        // A length that would wrap around is too large, not a panic or a short frame.
        let mut framer = StreamFramer::new(64);
        framer.push(format!("A sip:a SIP/2.0\r\nl: {}\r\n\r\nab", usize::MAX).as_bytes());
        assert!(matches!(
            framer.next_frame(),
            Err(TransportError::MessageTooLarge(64))
        ));
    }

    #[test]
    fn a_message_arriving_byte_by_byte_is_cut_where_it_ends() {
        let message = b"OPTIONS sip:a SIP/2.0\r\nl: 2\r\n\r\nokSIP/2.0 200 OK\r\nl: 0\r\n\r\n";
        let mut framer = StreamFramer::new(1024);
        let mut frames = Vec::new();
        for byte in message {
            framer.push(&[*byte]);
            while let Some(frame) = framer.next_frame().unwrap() {
                frames.push(frame);
            }
        }
        assert_eq!(
            frames,
            [
                Frame::Message(Bytes::from_static(
                    b"OPTIONS sip:a SIP/2.0\r\nl: 2\r\n\r\nok"
                )),
                Frame::Message(Bytes::from_static(b"SIP/2.0 200 OK\r\nl: 0\r\n\r\n")),
            ]
        );
    }
}
