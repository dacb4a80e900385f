//! `ccc turn-test`: the access-point speed test.

use std::collections::BTreeMap;
use std::process::ExitCode;
use std::time::Duration;

use ccc_media::access_point::{
    AccessPoint, ProbeOptions, RegionReport, ServerReport, Timing, TlsRoots, TurnCredentials,
    test_access_points,
};
use serde_json::{Value, json};

/// Arguments of `ccc turn-test`.
#[derive(Debug, clap::Args)]
#[command(group(clap::ArgGroup::new("auth").required(true).args(["password", "secret"])))]
pub(crate) struct Args {
    /// A server of a region, `REGION=URL` (`cn-shanghai=turn:1.2.3.4:3478?transport=udp`); repeat it.
    #[arg(long = "server", value_name = "REGION=URL", required = true, value_parser = parse_server)]
    servers: Vec<(String, String)>,
    /// TURN user (with --password), or the name in time-limited credentials (with --secret).
    #[arg(long, default_value = "ccc")]
    username: String,
    /// TURN password.
    #[arg(long)]
    password: Option<String>,
    /// Shared secret of time-limited credentials (TURN REST API).
    #[arg(long)]
    secret: Option<String>,
    /// Rounds per server.
    #[arg(long, default_value_t = 3, value_parser = clap::value_parser!(u32).range(1..=1000))]
    rounds: u32,
    /// Limit per exchange, in milliseconds.
    #[arg(long, default_value_t = 2000)]
    timeout_ms: u64,
    /// Trust the CA certificates of this PEM file for `turns:` servers, instead of the
    /// platform's certificate authorities.
    #[arg(long, value_name = "FILE.pem")]
    ca_file: Option<std::path::PathBuf>,
    /// Print one JSON object `{"ranking": [...]}` instead of a table.
    #[arg(long)]
    json: bool,
}

fn parse_server(text: &str) -> Result<(String, String), String> {
    let (region, url) = text
        .split_once('=')
        .ok_or_else(|| format!("{text:?}: expected REGION=URL"))?;
    if region.is_empty() || url.is_empty() {
        return Err(format!("{text:?}: expected REGION=URL"));
    }
    Ok((region.to_owned(), url.to_owned()))
}

/// Runs the test; exit status 0 when at least one region works, 1 when none does.
pub(crate) async fn run(args: Args) -> Result<ExitCode, String> {
    let credentials = match (args.password, args.secret) {
        (Some(password), _) => TurnCredentials::Static {
            username: args.username,
            password,
        },
        (None, Some(secret)) => {
            TurnCredentials::time_limited(secret, args.username, Duration::from_secs(600))
        }
        (None, None) => return Err("give --password or --secret".into()),
    };
    let mut regions: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for (region, url) in args.servers {
        regions.entry(region).or_default().push(url);
    }
    let points: Vec<AccessPoint> = regions
        .into_iter()
        .map(|(region, urls)| AccessPoint { region, urls })
        .collect();
    let mut options = ProbeOptions::new(args.rounds, Duration::from_millis(args.timeout_ms));
    if let Some(path) = &args.ca_file {
        let pem = std::fs::read_to_string(path)
            .map_err(|e| format!("--ca-file {}: {e}", path.display()))?;
        let roots =
            TlsRoots::from_pem(&pem).map_err(|e| format!("--ca-file {}: {e}", path.display()))?;
        options = options.with_roots(roots);
    }
    let ranking = test_access_points(&points, &credentials, &options).await;
    if args.json {
        let entries: Vec<Value> = ranking.iter().map(region_json).collect();
        println!("{}", json!({ "ranking": entries }));
    } else {
        print_table(&ranking);
    }
    let any_works = ranking.iter().any(|r| r.best().is_some());
    Ok(if any_works {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

fn timing_json(t: Option<Timing>) -> Value {
    t.map_or(
        Value::Null,
        |t| json!({ "min_ms": ms(t.min), "median_ms": ms(t.median), "max_ms": ms(t.max) }),
    )
}

fn server_json(s: &ServerReport) -> Value {
    json!({
        "url": s.url,
        "connect": timing_json(s.connect),
        "binding": timing_json(s.binding),
        "allocate_challenge": timing_json(s.challenge),
        "allocate": timing_json(s.allocate),
        "median_to_relay_ms": s.median_to_relay().map(ms),
        "successes": s.successes,
        "failures": s.failures,
        "error": s.error.as_ref().map(ToString::to_string),
    })
}

fn region_json(r: &RegionReport) -> Value {
    let best = r.best();
    json!({
        "region": r.region,
        "median_to_relay_ms": best.and_then(ServerReport::median_to_relay).map(ms),
        "best_url": best.map(|s| s.url.clone()),
        "servers": r.servers.iter().map(server_json).collect::<Vec<_>>(),
    })
}

fn print_table(ranking: &[RegionReport]) {
    println!(
        "{:<4} {:<16} {:>10} {:>10} {:>10} {:>10}  server",
        "rank", "region", "connect", "binding", "challenge", "allocate"
    );
    for (i, region) in ranking.iter().enumerate() {
        for server in &region.servers {
            let median = |t: Option<Timing>| {
                t.map_or_else(|| "-".to_owned(), |t| format!("{:.2} ms", ms(t.median)))
            };
            println!(
                "{:<4} {:<16} {:>10} {:>10} {:>10} {:>10}  {} ({} ok, {} failed){}",
                i + 1,
                region.region,
                median(server.connect),
                median(server.binding),
                median(server.challenge),
                median(server.allocate),
                server.url,
                server.successes,
                server.failures,
                server
                    .error
                    .as_ref()
                    .map(|e| format!(": {e}"))
                    .unwrap_or_default(),
            );
        }
    }
}
