//! `ccc api`: one OpenAPI call, signed with the AccessKey of the environment, or only
//! prepared (`--dry-run`) to debug a `SignatureDoesNotMatch`.

use std::process::ExitCode;

use ccc_openapi::sign::{self, HttpMethod, ParamStyle};
use ccc_openapi::transport::{Direct, Request};
use ccc_openapi::{Client, Credentials, Params, Placement, Version, models};
use serde_json::json;

/// Arguments of `ccc api`.
#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    /// The action (`ListSkillGroupsOfUser`, `MakeCall`, ...).
    action: String,
    /// The API version; by default the one that has the action (2017-07-05 if none).
    #[arg(long, value_parser = ["2017-07-05", "2020-07-01"])]
    version: Option<String>,
    /// A parameter by its wire name, `NAME=VALUE` (`SkillGroupId.1=skg-1`); repeat it.
    #[arg(long = "param", value_name = "NAME=VALUE", value_parser = parse_param)]
    params: Vec<(String, String)>,
    /// The region: the host `ccc.<region>.aliyuncs.com`, and `RegionId` in the core style.
    #[arg(long, default_value = "cn-shanghai")]
    region: String,
    /// A base URL instead of the region's host (the emulator's, `http://127.0.0.1:8080`).
    #[arg(long)]
    endpoint: Option<String>,
    /// The HTTP method.
    #[arg(long, default_value = "POST", value_parser = ["GET", "POST"])]
    method: String,
    /// The common parameters of aliyun-python-sdk-core (`core`) or of the tea SDKs (`tea`,
    /// which also puts 2017 parameters in the form body).
    #[arg(long, default_value = "tea", value_parser = ["core", "tea"])]
    style: String,
    /// Send nothing; print `method`, `url`, `body`, `string_to_sign` and `signature`.
    #[arg(long)]
    dry_run: bool,
    /// The `Timestamp` to sign with `--dry-run` (UTC, `2024-01-02T03:04:05Z`).
    #[arg(long, requires = "dry_run", value_parser = parse_timestamp)]
    timestamp: Option<String>,
    /// The `SignatureNonce` to sign with `--dry-run`.
    #[arg(long, requires = "dry_run")]
    nonce: Option<String>,
    /// The time a call may take, in milliseconds.
    #[arg(long, default_value_t = 10_000)]
    timeout_ms: u64,
}

fn parse_param(text: &str) -> Result<(String, String), String> {
    match text.split_once('=') {
        Some((name, value)) if !name.is_empty() => Ok((name.to_owned(), value.to_owned())),
        _ => Err(format!("{text:?}: expected NAME=VALUE")),
    }
}

/// `YYYY-MM-DDTHH:MM:SSZ`, the only form CCC takes.
fn parse_timestamp(text: &str) -> Result<String, String> {
    let ok = text.len() == 20
        && text.bytes().enumerate().all(|(i, b)| match i {
            4 | 7 => b == b'-',
            10 => b == b'T',
            13 | 16 => b == b':',
            19 => b == b'Z',
            _ => b.is_ascii_digit(),
        });
    if ok {
        Ok(text.to_owned())
    } else {
        Err(format!("{text:?}: expected UTC as 2024-01-02T03:04:05Z"))
    }
}

/// The version that has `action`, if exactly one does.
fn version_of(action: &str) -> Option<Version> {
    let mut found = Version::ALL
        .into_iter()
        .filter(|v| models::find(*v, action).is_some());
    match (found.next(), found.next()) {
        (Some(v), None) => Some(v),
        _ => None,
    }
}

/// Exit status 0 with the answer printed, 1 when CCC (or the network) said no.
pub(crate) async fn run(args: Args) -> Result<ExitCode, String> {
    let version = match &args.version {
        Some(v) => Version::parse(v).ok_or_else(|| format!("unknown version {v}"))?,
        None => version_of(&args.action).unwrap_or(Version::V20170705),
    };
    let model = models::find(version, &args.action);
    if model.is_none() {
        eprintln!(
            "ccc api: warning: {} is not a {version} action this tool knows; parameters are sent as given",
            args.action
        );
    }
    let mut params = Params::new(version);
    for (name, value) in &args.params {
        let placement = match model.map(|m| m.param(name)) {
            Some(Some(p)) => p.placement,
            Some(None) => {
                eprintln!(
                    "ccc api: warning: {} has no parameter {name} in its model; sent as given",
                    args.action
                );
                Placement::Query
            }
            None => Placement::Query,
        };
        params.put_raw(name.as_str(), placement, value.as_str());
    }
    if let Some(model) = model {
        for p in model.params.iter().filter(|p| p.required) {
            let given = args.params.iter().any(|(n, _)| {
                n == p.name
                    || n.strip_prefix(p.name)
                        .is_some_and(|rest| rest.starts_with('.'))
            });
            if !given {
                eprintln!("ccc api: warning: the model requires {}", p.name);
            }
        }
    }
    let credentials = Credentials::from_env().map_err(|e| e.to_string())?;
    let mut builder = Direct::builder(credentials)
        .region(args.region.as_str())
        .method(if args.method == "GET" {
            HttpMethod::Get
        } else {
            HttpMethod::Post
        })
        .style(if args.style == "core" {
            ParamStyle::Core
        } else {
            ParamStyle::Tea
        })
        .timeout(std::time::Duration::from_millis(args.timeout_ms));
    if let Some(endpoint) = &args.endpoint {
        builder = builder.endpoint(endpoint.as_str());
    }
    let direct = builder.build().map_err(|e| e.to_string())?;
    let request = Request::raw(args.action.as_str(), version, params);
    if args.dry_run {
        let timestamp = args.timestamp.unwrap_or_else(sign::timestamp_now);
        let nonce = match args.nonce {
            Some(nonce) => nonce,
            None => sign::nonce()?,
        };
        let prepared = direct.prepare(&request, &timestamp, &nonce);
        let out = json!({
            "method": prepared.method.as_str(),
            "url": prepared.url,
            "body": prepared.body,
            "string_to_sign": prepared.string_to_sign,
            "signature": prepared.signature,
        });
        println!(
            "{}",
            serde_json::to_string_pretty(&out).map_err(|e| e.to_string())?
        );
        return Ok(ExitCode::SUCCESS);
    }
    match Client::new(direct).call(&request).await {
        Ok(answer) => {
            println!(
                "{}",
                serde_json::to_string_pretty(&answer).map_err(|e| e.to_string())?
            );
            Ok(ExitCode::SUCCESS)
        }
        Err(e) => {
            eprintln!("ccc api: {e}");
            if let Some(body) = e.body() {
                println!("{body}");
            }
            Ok(ExitCode::from(1))
        }
    }
}
