//! Recordings: M18 `downloadRecord` (`ListRecordingsByContactId`, then
//! `DownloadRecording` for each file's signed address) and the upload of agent-side
//! recordings (C12) through A20 `GetRecordOssUploadParam` to the address it returns.

use std::path::Path;
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use ccc_core::{ErrorCode, ErrorNotify};
use ccc_openapi::v2017;
use futures_util::StreamExt;

use crate::api::Api;
use crate::error::Error;
use crate::types::Recording;

/// The largest recording fetched into memory (an hour of 16 kHz stereo WAV is 230 MB;
/// the platform's MP3 or WAV of a call is far less).
const MAX_RECORDING: usize = 256 * 1024 * 1024;

/// How long one transfer may take.
const TRANSFER_TIMEOUT: Duration = Duration::from_secs(120);

/// One HTTP client for recordings, with ring as the TLS provider and the platform's
/// roots (the signed addresses are public object-storage URLs).
fn http() -> Result<&'static reqwest::Client, String> {
    static CLIENT: OnceLock<Result<reqwest::Client, String>> = OnceLock::new();
    CLIENT
        .get_or_init(|| {
            let mut store = rustls::RootCertStore::empty();
            let found = rustls_native_certs::load_native_certs();
            store.add_parsable_certificates(found.certs);
            let provider = Arc::new(rustls::crypto::ring::default_provider());
            let tls = rustls::ClientConfig::builder_with_provider(provider)
                .with_safe_default_protocol_versions()
                .map_err(|e| e.to_string())?
                .with_root_certificates(store)
                .with_no_client_auth();
            reqwest::Client::builder()
                .tls_backend_preconfigured(tls)
                .timeout(TRANSFER_TIMEOUT)
                .connect_timeout(Duration::from_secs(10))
                .build()
                .map_err(|e| e.to_string())
        })
        .as_ref()
        .map_err(Clone::clone)
}

fn failed(api: &'static str, message: impl Into<String>) -> ErrorNotify {
    let message: String = message.into();
    ErrorNotify::new(api, ErrorCode::NetworkError, message)
}

/// M18: the recordings of `contact_id`, with their signed addresses; fetched too unless
/// `only_play`.
pub(crate) async fn download(
    api: &Api,
    contact_id: &str,
    only_play: bool,
) -> Result<Vec<Recording>, Error> {
    let list = api
        .send(v2017::ListRecordingsByContactId::new(
            api.instance(),
            contact_id,
        ))
        .await
        .map_err(Error::Operation)?;
    let mut out = Vec::new();
    for item in list.recordings {
        let Some(file_name) = item.file_name.filter(|f| !f.is_empty()) else {
            continue;
        };
        let mut request = v2017::DownloadRecording::new(api.instance(), file_name.clone());
        if let Some(channel) = item.channel.clone().filter(|c| !c.is_empty()) {
            request = request.channel(channel);
        }
        let answer = api.send(request).await.map_err(Error::Operation)?;
        let url = answer
            .media_download_param
            .and_then(|p| p.signature_url)
            .map(ccc_openapi::Secret::into_inner)
            .filter(|u| !u.is_empty())
            .ok_or_else(|| {
                Error::Operation(ErrorNotify::new(
                    "DownloadRecording",
                    ErrorCode::Other("NoSignatureUrl".into()),
                    format!("no address for {file_name}"),
                ))
            })?;
        let data = if only_play {
            None
        } else {
            Some(fetch(&url).await.map_err(Error::Operation)?)
        };
        out.push(Recording {
            file_name,
            url,
            data,
            channel: item.channel,
            duration: item.duration,
        });
    }
    Ok(out)
}

/// GETs a signed address into memory, bounded in size and time.
async fn fetch(url: &str) -> Result<Vec<u8>, ErrorNotify> {
    let mut body = Vec::new();
    let mut writer = Bounded {
        inner: &mut body,
        left: MAX_RECORDING,
    };
    fetch_into(url, &mut writer).await?;
    Ok(body)
}

/// A `Vec` that refuses to grow past `left` bytes.
struct Bounded<'a> {
    inner: &'a mut Vec<u8>,
    left: usize,
}

impl tokio::io::AsyncWrite for Bounded<'_> {
    fn poll_write(
        self: std::pin::Pin<&mut Self>,
        _cx: &mut std::task::Context<'_>,
        buf: &[u8],
    ) -> std::task::Poll<std::io::Result<usize>> {
        let this = self.get_mut();
        if buf.len() > this.left {
            return std::task::Poll::Ready(Err(std::io::Error::other(format!(
                "the recording is larger than {MAX_RECORDING} bytes (fetch it into a file)"
            ))));
        }
        this.left -= buf.len();
        this.inner.extend_from_slice(buf);
        std::task::Poll::Ready(Ok(buf.len()))
    }

    fn poll_flush(
        self: std::pin::Pin<&mut Self>,
        _cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<std::io::Result<()>> {
        std::task::Poll::Ready(Ok(()))
    }

    fn poll_shutdown(
        self: std::pin::Pin<&mut Self>,
        _cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<std::io::Result<()>> {
        std::task::Poll::Ready(Ok(()))
    }
}

/// GETs a signed address and writes its body to `out` as it arrives (nothing is held
/// in memory); the bytes written. Bounded in time (`TRANSFER_TIMEOUT`).
pub(crate) async fn fetch_into<W>(url: &str, out: &mut W) -> Result<u64, ErrorNotify>
where
    W: tokio::io::AsyncWrite + Unpin + ?Sized,
{
    use tokio::io::AsyncWriteExt;
    let client = http().map_err(|e| failed("downloadRecord", e))?;
    let response = client
        .get(url)
        .send()
        .await
        .map_err(|e| failed("downloadRecord", e.without_url().to_string()))?;
    let status = response.status();
    if !status.is_success() {
        return Err(failed(
            "downloadRecord",
            format!("the recording address answered HTTP {status}"),
        ));
    }
    let mut written = 0u64;
    let mut stream = response.bytes_stream();
    while let Some(chunk) = stream.next().await {
        let chunk = chunk.map_err(|e| failed("downloadRecord", e.without_url().to_string()))?;
        out.write_all(&chunk)
            .await
            .map_err(|e| failed("downloadRecord", e.to_string()))?;
        written += u64::try_from(chunk.len()).unwrap_or(u64::MAX);
    }
    out.flush()
        .await
        .map_err(|e| failed("downloadRecord", e.to_string()))?;
    Ok(written)
}

/// C12: uploads `path` as `name` with the policy `GetRecordOssUploadParam` returns (an
/// OSS PostObject form: key, policy, OSSAccessKeyId, Signature, then the file).
pub(crate) async fn upload(api: &Api, path: &Path, name: &str) -> Result<(), ErrorNotify> {
    let params = api
        .send(v2017::GetRecordOssUploadParam::new(api.instance(), name))
        .await?;
    let host = params
        .host
        .filter(|h| !h.is_empty())
        .ok_or_else(|| failed("GetRecordOssUploadParam", "no upload address (Host)"))?;
    let key = format!(
        "{}{}",
        params.dir.unwrap_or_default(),
        params.oss_file_name.unwrap_or_else(|| name.to_owned())
    );
    let bytes = tokio::fs::read(path)
        .await
        .map_err(|e| failed("enableRecord", format!("{}: {e}", path.display())))?;
    let form = reqwest::multipart::Form::new()
        .text("key", key)
        .text("policy", params.policy.unwrap_or_default())
        .text(
            "OSSAccessKeyId",
            params.oss_access_key_id.unwrap_or_default(),
        )
        .text(
            "Signature",
            params
                .signature
                .map(|s| s.expose().to_owned())
                .unwrap_or_default(),
        )
        .text("success_action_status", "200")
        .part(
            "file",
            reqwest::multipart::Part::bytes(bytes)
                .file_name(name.to_owned())
                .mime_str("audio/wav")
                .map_err(|e| failed("enableRecord", e.to_string()))?,
        );
    let client = http().map_err(|e| failed("enableRecord", e))?;
    let response = client
        .post(&host)
        .multipart(form)
        .send()
        .await
        .map_err(|e| failed("enableRecord", e.without_url().to_string()))?;
    if response.status().is_success() {
        Ok(())
    } else {
        Err(failed(
            "enableRecord",
            format!("the upload address answered HTTP {}", response.status()),
        ))
    }
}
