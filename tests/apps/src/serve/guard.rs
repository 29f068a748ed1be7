//! Request heads checked before hyper parses them, so that every refusal
//! carries the service's JSON error body.
//!
//! hyper answers a head it cannot take by itself, with an empty body: 414
//! for a target over 64 KiB, 431 for a head over its buffer, 400 for a
//! malformed one. [`GuardedListener`] wraps each accepted connection in a
//! [`Guarded`] stream that follows the request heads going by (with
//! `httparse`, the parser hyper itself uses) and, at the first head over
//! the service's own, smaller limits ([`MAX_TARGET_BYTES`],
//! [`MAX_HEAD_BYTES`]) or one `httparse` refuses, writes a JSON `414`,
//! `431` or `400` and closes the connection; hyper never sees that head.
//!
//! Bodies are stepped over by their `Content-Length`. After a chunked body
//! (or a protocol upgrade) the connection is no longer followed: a later
//! head on it that breaks hyper's limits gets hyper's empty answer.
//! Clients of this API send `Content-Length` bodies (curl `-d`, ureq,
//! wrk).

use std::io;
use std::pin::Pin;
use std::task::{Context, Poll, ready};

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};

/// The longest request target (path and query string) accepted, in bytes:
/// room for a `q` of [`MAX_Q_CHARS`](super::params::MAX_Q_CHARS)
/// characters of any script, percent-encoded.
pub const MAX_TARGET_BYTES: usize = 16 * 1024;
/// The longest request head (request line and headers) accepted, in bytes.
pub const MAX_HEAD_BYTES: usize = 32 * 1024;
/// Headers a head may have (hyper's own limit).
const MAX_HEADERS: usize = 100;

/// A refused head: the status and the message of its JSON body.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Refusal {
    pub(crate) status: u16,
    pub(crate) message: String,
}

impl Refusal {
    fn new(status: u16, message: impl Into<String>) -> Self {
        Refusal {
            status,
            message: message.into(),
        }
    }

    /// The whole HTTP response, closing the connection.
    fn response(&self) -> Vec<u8> {
        let reason = match self.status {
            414 => "URI Too Long",
            431 => "Request Header Fields Too Large",
            _ => "Bad Request",
        };
        let body = serde_json::json!({ "error": self.message }).to_string();
        format!(
            "HTTP/1.1 {} {reason}\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\
             connection: close\r\n\r\n{body}",
            self.status,
            body.len()
        )
        .into_bytes()
    }
}

/// Where the bytes of a connection are: in a head, in a body, or past
/// what is followed.
#[derive(Debug)]
enum Phase {
    Head(Vec<u8>),
    Body(u64),
    Unfollowed,
}

/// Follows the request heads of one connection's incoming bytes. No I/O:
/// [`feed`](HeadTracker::feed) is handed each chunk read.
#[derive(Debug)]
pub(crate) struct HeadTracker {
    phase: Phase,
}

impl Default for HeadTracker {
    fn default() -> Self {
        HeadTracker {
            phase: Phase::Head(Vec::new()),
        }
    }
}

impl HeadTracker {
    /// Take the next bytes of the connection; a refusal for a head over
    /// the limits or malformed.
    pub(crate) fn feed(&mut self, mut bytes: &[u8]) -> Option<Refusal> {
        while !bytes.is_empty() {
            match &mut self.phase {
                Phase::Unfollowed => return None,
                Phase::Body(left) => {
                    let take = usize::try_from(*left)
                        .unwrap_or(usize::MAX)
                        .min(bytes.len());
                    *left -= take as u64;
                    bytes = &bytes[take..];
                    if *left == 0 {
                        self.phase = Phase::Head(Vec::new());
                    }
                }
                Phase::Head(buf) => {
                    buf.extend_from_slice(bytes);
                    let head = std::mem::take(buf);
                    return self.parse(head);
                }
            }
        }
        None
    }

    /// Parse the head bytes gathered so far (with what followed them).
    fn parse(&mut self, head: Vec<u8>) -> Option<Refusal> {
        let mut headers = [httparse::EMPTY_HEADER; MAX_HEADERS];
        let mut request = httparse::Request::new(&mut headers);
        match request.parse(&head) {
            Ok(httparse::Status::Partial) => {
                let line = head.iter().position(|&b| b == b'\n').unwrap_or(head.len());
                if line > MAX_TARGET_BYTES + 32 {
                    return Some(target_too_long());
                }
                if head.len() > MAX_HEAD_BYTES {
                    return Some(head_too_large());
                }
                self.phase = Phase::Head(head);
                None
            }
            Ok(httparse::Status::Complete(length)) => {
                if request.path.is_some_and(|p| p.len() > MAX_TARGET_BYTES) {
                    return Some(target_too_long());
                }
                if length > MAX_HEAD_BYTES {
                    return Some(head_too_large());
                }
                let mut next = Phase::Body(0);
                if request.method == Some("CONNECT") {
                    next = Phase::Unfollowed;
                }
                for header in request.headers.iter() {
                    let value = String::from_utf8_lossy(header.value).to_ascii_lowercase();
                    if header.name.eq_ignore_ascii_case("transfer-encoding")
                        || header.name.eq_ignore_ascii_case("upgrade")
                    {
                        next = Phase::Unfollowed;
                    } else if header.name.eq_ignore_ascii_case("content-length")
                        && matches!(next, Phase::Body(_))
                    {
                        match value.trim().parse::<u64>() {
                            Ok(n) => next = Phase::Body(n),
                            Err(_) => {
                                return Some(Refusal::new(400, "Content-Length is not a number"));
                            }
                        }
                    }
                }
                self.phase = match next {
                    Phase::Body(0) => Phase::Head(Vec::new()),
                    other => other,
                };
                let rest = head[length..].to_vec();
                self.feed(&rest)
            }
            Err(httparse::Error::TooManyHeaders) => Some(Refusal::new(
                431,
                format!("the request has more than {MAX_HEADERS} headers"),
            )),
            Err(error) => Some(Refusal::new(
                400,
                format!("the request head is malformed: {error}"),
            )),
        }
    }
}

fn target_too_long() -> Refusal {
    Refusal::new(
        414,
        format!("the request target is longer than {MAX_TARGET_BYTES} bytes"),
    )
}

fn head_too_large() -> Refusal {
    Refusal::new(
        431,
        format!("the request head is larger than {MAX_HEAD_BYTES} bytes"),
    )
}

/// A connection whose request heads are checked (see the module docs).
#[derive(Debug)]
pub struct Guarded<S> {
    inner: S,
    tracker: HeadTracker,
    /// The refusal being written, and how much of it is out.
    refusing: Option<(Vec<u8>, usize)>,
}

impl<S: AsyncRead + AsyncWrite + Unpin> Guarded<S> {
    /// `inner`, checked.
    pub fn new(inner: S) -> Self {
        Guarded {
            inner,
            tracker: HeadTracker::default(),
            refusing: None,
        }
    }

    /// Write the refusal, then end the stream for the reader (hyper sees
    /// the connection close before the head completed, and says nothing).
    fn poll_refuse(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        if let Some((bytes, written)) = &mut self.refusing {
            while *written < bytes.len() {
                let n = ready!(Pin::new(&mut self.inner).poll_write(cx, &bytes[*written..]))?;
                if n == 0 {
                    return Poll::Ready(Err(io::ErrorKind::WriteZero.into()));
                }
                *written += n;
            }
            ready!(Pin::new(&mut self.inner).poll_flush(cx))?;
            // The peer may be gone already; the response is out either way.
            let _ = ready!(Pin::new(&mut self.inner).poll_shutdown(cx));
        }
        Poll::Ready(Ok(()))
    }
}

impl<S: AsyncRead + AsyncWrite + Unpin> AsyncRead for Guarded<S> {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        if this.refusing.is_some() {
            return this.poll_refuse(cx);
        }
        let before = buf.filled().len();
        ready!(Pin::new(&mut this.inner).poll_read(cx, buf))?;
        if let Some(refusal) = this.tracker.feed(&buf.filled()[before..]) {
            tracing::info!(
                status = refusal.status,
                "refused a request head: {}",
                refusal.message
            );
            buf.set_filled(before);
            this.refusing = Some((refusal.response(), 0));
            return this.poll_refuse(cx);
        }
        Poll::Ready(Ok(()))
    }
}

impl<S: AsyncRead + AsyncWrite + Unpin> AsyncWrite for Guarded<S> {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bytes: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.get_mut().inner).poll_write(cx, bytes)
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_shutdown(cx)
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.get_mut().inner).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }
}

/// A listener whose connections are [`Guarded`].
#[derive(Debug)]
pub struct GuardedListener<L> {
    inner: L,
}

impl<L> GuardedListener<L> {
    /// `inner`, each accepted connection checked.
    pub fn new(inner: L) -> Self {
        GuardedListener { inner }
    }
}

impl<L> axum::serve::Listener for GuardedListener<L>
where
    L: axum::serve::Listener,
{
    type Io = Guarded<L::Io>;
    type Addr = L::Addr;

    async fn accept(&mut self) -> (Self::Io, Self::Addr) {
        let (io, addr) = self.inner.accept().await;
        (Guarded::new(io), addr)
    }

    fn local_addr(&self) -> io::Result<Self::Addr> {
        self.inner.local_addr()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn feed_all(chunks: &[&[u8]]) -> Option<Refusal> {
        let mut tracker = HeadTracker::default();
        chunks.iter().find_map(|chunk| tracker.feed(chunk))
    }

    #[test]
    fn ordinary_requests_pass_in_any_chunking() {
        let two = b"GET /products?q=lamp HTTP/1.1\r\nHost: x\r\n\r\n\
                    PATCH /products/p1 HTTP/1.1\r\nContent-Length: 15\r\n\r\n{\"price\": 19.9}\
                    GET /stats HTTP/1.1\r\n\r\n";
        assert_eq!(feed_all(&[two]), None);
        let bytes: Vec<&[u8]> = two.chunks(3).collect();
        assert_eq!(feed_all(&bytes), None);
    }

    #[test]
    fn long_targets_large_heads_and_garbage_are_refused() {
        let target = format!("GET /products?q={} HTTP/1.1\r\n\r\n", "a".repeat(100_000));
        assert_eq!(feed_all(&[target.as_bytes()]).unwrap().status, 414);
        // Refused before the line even ends.
        let start = format!("GET /products?q={}", "a".repeat(MAX_TARGET_BYTES + 100));
        assert_eq!(feed_all(&[start.as_bytes()]).unwrap().status, 414);
        let header = format!("GET / HTTP/1.1\r\nX-Big: {}\r\n\r\n", "b".repeat(1 << 20));
        assert_eq!(feed_all(&[header.as_bytes()]).unwrap().status, 431);
        let many: String = (0..150).map(|i| format!("X-{i}: y\r\n")).collect();
        let many = format!("GET / HTTP/1.1\r\n{many}\r\n");
        assert_eq!(feed_all(&[many.as_bytes()]).unwrap().status, 431);
        assert_eq!(
            feed_all(&[b"\x01\x02 nonsense\r\n\r\n"]).unwrap().status,
            400
        );
    }

    #[test]
    fn a_body_is_stepped_over_and_the_next_head_checked() {
        let body = "x".repeat(40_000);
        let second = format!("GET /{} HTTP/1.1\r\n\r\n", "a".repeat(MAX_TARGET_BYTES + 1));
        let stream = format!(
            "PATCH /p HTTP/1.1\r\nContent-Length: {}\r\n\r\n{body}{second}",
            body.len()
        );
        // The 40 kB body is no head: only the second request is refused.
        let refusal = feed_all(&[stream.as_bytes()]).unwrap();
        assert_eq!(refusal.status, 414);
        let response = String::from_utf8(refusal.response()).unwrap();
        assert!(
            response.starts_with("HTTP/1.1 414 URI Too Long\r\n"),
            "{response}"
        );
        assert!(response.ends_with("\"}"), "{response}");
    }
}
