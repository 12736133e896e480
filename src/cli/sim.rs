//! `impt sim`: run the local impCentral simulator until SIGINT/SIGTERM.

use clap::Parser;
use impt_sim::{self as sim, AccountSpec, SimConfig};
use std::path::PathBuf;

const CONTROL_HELP: &str = "Control endpoints (no auth) at http://127.0.0.1:PORT/_sim/:
  GET  /_sim/devices                          list every virtual device
  POST /_sim/devices {account?,name?,online?,imp_type?}
                                              add a device
  POST /_sim/devices/DEVICE/online|offline    change connectivity (logs the change)
  POST /_sim/devices/DEVICE/restart           run the boot sequence
  POST /_sim/devices/DEVICE/disconnect {secs?,reason?}
                                              cut the device's network (for SECS, or
                                              until /reconnect); reason: NO_WIFI, NO_SERVER…
  POST /_sim/devices/DEVICE/reconnect         the network is back
  POST /_sim/devices/DEVICE/power-cycle       power off and on (nv is lost)
  POST /_sim/devices/DEVICE/parts (TOML)      attach virtual parts (a part file); DELETE removes
  POST /_sim/devices/DEVICE/pins {pin,value}  drive an input pin (0/1, or 0.0-1.0 analog)
  POST /_sim/devices/DEVICE/logs {count?,interval_ms?,type?,message?}
                                              emit log lines ({i} = line number)
  POST /_sim/faults {status?,count?,path?,method?,delay_ms?,drop_sse?}
                                              inject faults into /v5 requests
  DELETE /_sim/faults                         remove all faults
  GET  /_sim/stats, POST /_sim/stats/reset    request counts per route
  GET  /_sim/time                             virtual clock: {now, virtual, skipped, jumps, workers, ...}
  POST /_sim/time {virtual?,advance?}         switch virtual time; jump ADVANCE seconds ahead

Agent URLs (no auth): ANY http://127.0.0.1:PORT/agents/AGENT_ID[/PATH] is answered by that
agent's http.onrequest handler.";

/// Run a local impCentral API v5 simulator with virtual devices.
///
/// The first line printed is `impCentral simulator listening on http://127.0.0.1:PORT/v5`;
/// it then serves until SIGINT/SIGTERM.
#[derive(Debug, Parser)]
#[command(
    name = "impt sim",
    no_binary_name = true,
    after_long_help = CONTROL_HELP,
    args_override_self = true
)]
struct Args {
    /// TCP port on 127.0.0.1 (0 picks a free one). Default: with --state, the port of the
    /// last run without --port (kept in STATE.port) when it is free; else a free one.
    #[arg(long)]
    port: Option<u16>,
    /// Virtual devices seeded per account (online, unassigned).
    #[arg(long, default_value_t = 3)]
    devices: usize,
    /// Username of the default account (used when no --account/--mfa-account is given).
    #[arg(long, default_value = "user")]
    user: String,
    /// Password of the default account.
    #[arg(long, default_value = "password")]
    password: String,
    /// An account as USER:PASSWORD[:EMAIL] (repeatable; replaces the default account).
    /// EMAIL defaults to USER@example.com. Login accepts the username or the email.
    #[arg(long = "account", value_name = "USER:PASSWORD[:EMAIL]")]
    accounts: Vec<String>,
    /// A multi-factor account as USER:PASSWORD:EMAIL:OTP (repeatable): login answers 403
    /// PX200 with a login_token, then needs {login_token} plus the header
    /// X-Electricimp-OTP-Token: OTP.
    #[arg(long = "mfa-account", value_name = "USER:PASSWORD:EMAIL:OTP")]
    mfa_accounts: Vec<String>,
    /// Access token lifetime in seconds.
    #[arg(long, default_value_t = 3600)]
    token_ttl: u64,
    /// Answer 429 (with Retry-After) beyond N requests per second per token.
    #[arg(long, value_name = "N")]
    rate_limit: Option<u32>,
    /// Persist all entities to FILE (reloaded on start); memory only without it.
    #[arg(long, value_name = "FILE")]
    state: Option<PathBuf>,
    /// Open log streams per account; a new one closes the oldest.
    #[arg(long, default_value_t = 1)]
    streams_per_account: usize,
    /// Devices per log stream; adding one more evicts the least recently added.
    #[arg(long, default_value_t = 5)]
    devices_per_stream: usize,
    /// Milliseconds between `: keep-alive` comments on log streams.
    #[arg(long, default_value_t = 15_000)]
    keepalive_ms: u64,
    /// Close log streams that have had no connected client for SECS seconds.
    #[arg(long, value_name = "SECS", default_value_t = 3600)]
    stream_idle_secs: u64,
    /// Largest accepted request body in bytes (larger ones get 413).
    #[arg(long, default_value_t = 4 * 1024 * 1024)]
    max_body: usize,
    /// Speed of the devices' virtual time (imp.wakeup, time()) relative to real time.
    #[arg(long, value_name = "F", default_value_t = 1.0)]
    time_scale: f64,
    /// Milliseconds between the status lines of a simulated boot (agent restarted, code
    /// downloaded, device connected) before the new code runs.
    #[arg(long, value_name = "MS", default_value_t = 5)]
    boot_step_ms: u64,
    /// Seconds a client has to send a request's headers, and then its body (408).
    #[arg(long, value_name = "SECS", default_value_t = 30)]
    read_timeout: u64,
    /// Refuse agents' HTTP requests to anything but their own agent URL (a runtime error
    /// says so); for tests and CI without internet.
    #[arg(long)]
    no_outbound: bool,
    /// Seconds a device takes to boot new code after its agent started, as a real device
    /// downloading its code (0: both start at once).
    #[arg(long, value_name = "SECS", default_value_t = 0.0)]
    device_boot_delay: f64,
    /// Devices under test the fixtures' server.factoryblinkup() can configure, in all.
    #[arg(long, value_name = "N", default_value_t = 20)]
    dut_pool: usize,
    /// Seconds a factory BlinkUp takes before its device under test appears.
    #[arg(long, value_name = "SECS", default_value_t = 2.0)]
    blinkup_time: f64,
    /// Memory free to every device's code at start, in bytes (default by imp type:
    /// imp001/imp002 80 KiB, imp003 120 KiB, imp004m 128 KiB, imp005 1 MiB, imp006 512 KiB).
    #[arg(long, value_name = "BYTES")]
    device_memory: Option<u64>,
    /// Memory of every agent, in bytes.
    #[arg(long, value_name = "BYTES", default_value_t = impt_sim::limits::AGENT_MEMORY)]
    agent_memory: u64,
    /// Bytes of messages that may wait for a device or its agent, each way (beyond:
    /// agent.send returns SEND_ERROR_WOULDBLOCK).
    #[arg(long, value_name = "BYTES", default_value_t = impt_sim::limits::QUEUE_BYTES)]
    message_queue_bytes: usize,
    /// Outgoing HTTP requests one agent may have under way (beyond: status 429).
    #[arg(long, value_name = "N", default_value_t = impt_sim::limits::HTTP_IN_FLIGHT)]
    http_in_flight: usize,
    /// Outgoing HTTP requests all agents together may have under way.
    #[arg(long, value_name = "N", default_value_t = impt_sim::limits::HTTP_IN_FLIGHT_TOTAL)]
    http_in_flight_total: usize,
    /// Largest response body an agent's HTTP request reads, in bytes (beyond: status 63).
    #[arg(long, value_name = "BYTES", default_value_t = impt_sim::limits::HTTP_MAX_BODY)]
    http_max_body: usize,
    /// Log lines a device and its agent may emit per second (beyond: dropped and counted).
    #[arg(long, value_name = "N", default_value_t = impt_sim::limits::LOG_LINES_PER_SEC)]
    log_rate: u32,
    /// A folder of Electric Imp libraries for `#require` (DIR/<Repo>/<X.Y.Z>/<file>, or
    /// clones DIR/<Repo>/<file>), searched before the user cache and GitHub: offline use.
    #[arg(long, value_name = "DIR")]
    libraries: Option<PathBuf>,
    /// Threads running the devices' and agents' code, shared by all devices (0: one per
    /// core, at least 2).
    #[arg(long, value_name = "N", default_value_t = 0)]
    workers: usize,
    /// Fraction of one core one device's code may use in the long run (a device that
    /// computes without end gets this share; bursts of up to 2 s of CPU run at full speed).
    #[arg(long, value_name = "F", default_value_t = 0.5)]
    cpu_share: f64,
    /// Milliseconds of CPU time one run of device or agent code (main code, a handler, a
    /// timer) may use, natives included; over it the run fails as runaway code (0: no limit).
    #[arg(long, value_name = "MS", default_value_t = 1000)]
    cpu_limit_ms: u64,
    /// Run the devices' code at a lower OS priority than the API (Linux nice value 0-19),
    /// so device code busy on every core never slows the API down.
    #[arg(long, value_name = "N", default_value_t = 0)]
    worker_nice: i32,
    /// Virtual time: when all device and agent code is idle, the clock (imp.wakeup,
    /// imp.sleep, time(), date(), hardware.millis()) jumps to the next timer, so long waits
    /// take no real time. Also switched by POST /_sim/time {"virtual": true|false}.
    #[arg(long)]
    virtual_time: bool,
    /// The imp type of the seeded devices and of devices added without one: imp001,
    /// imp002, imp003, imp004m, imp005, imp006 or impC001 (imp.info().type and the
    /// hardware object's pins and buses).
    #[arg(long, value_name = "TYPE", default_value = impt_vm::DEFAULT_IMP_TYPE)]
    imp_type: String,
    /// A part file (TOML) attached to every device that has none of its own: register-map
    /// I2C/SPI parts, scripted UARTs, pin levels over time, `trace = true` for [bus] lines.
    #[arg(long, value_name = "FILE")]
    parts: Option<PathBuf>,
}

fn parse_account(s: &str, mfa: bool) -> Result<AccountSpec, String> {
    let parts: Vec<&str> = s.splitn(if mfa { 4 } else { 3 }, ':').collect();
    let bad = || {
        if mfa {
            format!("--mfa-account wants USER:PASSWORD:EMAIL:OTP, not \"{s}\"")
        } else {
            format!("--account wants USER:PASSWORD[:EMAIL], not \"{s}\"")
        }
    };
    if parts.len() < 2 || parts[0].is_empty() || (mfa && parts.len() < 4) {
        return Err(bad());
    }
    let mut a = AccountSpec::new(parts[0], parts[1]);
    if let Some(e) = parts.get(2).filter(|e| !e.is_empty()) {
        a.email = (*e).to_string();
    }
    if mfa {
        a.otp = Some(parts[3].to_string());
    }
    Ok(a)
}

fn config(args: Args) -> Result<SimConfig, String> {
    let imp_type =
        sim::hardware::parse_imp_type(&args.imp_type).map_err(|e| format!("--imp-type: {e}"))?;
    let mut accounts = Vec::new();
    for a in &args.accounts {
        accounts.push(parse_account(a, false)?);
    }
    for a in &args.mfa_accounts {
        accounts.push(parse_account(a, true)?);
    }
    if accounts.is_empty() {
        accounts.push(AccountSpec::new(&args.user, &args.password));
    }
    Ok(SimConfig {
        port: args.port.unwrap_or(0),
        devices: args.devices,
        accounts,
        token_ttl: args.token_ttl.max(1),
        rate_limit: args.rate_limit,
        state: args.state,
        streams_per_account: args.streams_per_account.max(1),
        devices_per_stream: args.devices_per_stream.max(1),
        keepalive_ms: args.keepalive_ms.max(10),
        max_body: args.max_body,
        stream_idle_secs: args.stream_idle_secs.max(1),
        time_scale: if args.time_scale.is_finite() && args.time_scale > 0.0 {
            args.time_scale
        } else {
            return Err("--time-scale wants a positive number".into());
        },
        boot_step_ms: args.boot_step_ms,
        read_timeout: std::time::Duration::from_secs(args.read_timeout.max(1)),
        no_outbound: args.no_outbound,
        device_boot_delay: if args.device_boot_delay.is_finite() && args.device_boot_delay >= 0.0 {
            args.device_boot_delay
        } else {
            return Err("--device-boot-delay wants a number of seconds".into());
        },
        dut_pool: args.dut_pool,
        blinkup_time: if args.blinkup_time.is_finite() && (0.0..=600.0).contains(&args.blinkup_time)
        {
            args.blinkup_time
        } else {
            return Err("--blinkup-time wants a number of seconds from 0 to 600".into());
        },
        limits: impt_sim::limits::PlatformLimits {
            device_memory: args.device_memory.map(|m| m.clamp(4096, 1 << 30)),
            agent_memory: args.agent_memory.clamp(4096, 1 << 30),
            queue_bytes: args.message_queue_bytes.max(1),
            http_in_flight: args.http_in_flight.max(1),
            http_in_flight_total: args.http_in_flight_total.max(1),
            http_max_body: args.http_max_body,
            log_lines_per_sec: args.log_rate.max(1),
            ..Default::default()
        },
        libraries: match args.libraries {
            Some(d) if !d.is_dir() => {
                return Err(format!("--libraries: {} is not a folder", d.display()))
            }
            d => d,
        },
        workers: args.workers.min(256),
        cpu_share: if args.cpu_share.is_finite() && args.cpu_share > 0.0 && args.cpu_share <= 1.0 {
            args.cpu_share
        } else {
            return Err("--cpu-share wants a fraction of a core, above 0 and at most 1".into());
        },
        cpu_ms_per_run: args.cpu_limit_ms,
        worker_nice: if (0..=19).contains(&args.worker_nice) {
            args.worker_nice
        } else {
            return Err("--worker-nice wants a number from 0 to 19".into());
        },
        virtual_time: args.virtual_time,
        imp_type: imp_type.clone(),
        parts: match &args.parts {
            Some(path) => {
                let bytes = crate::config::read_limited(path)
                    .map_err(|e| format!("--parts {}: {e}", path.display()))?;
                let text = String::from_utf8(bytes)
                    .map_err(|_| format!("--parts {}: not UTF-8 text", path.display()))?;
                let imp = impt_vm::imp_type(&imp_type).ok_or("--imp-type: unknown")?;
                sim::hardware::parts::parse(&text, imp)
                    .map_err(|e| format!("--parts {}: {e}", path.display()))?;
                Some(text)
            }
            None => None,
        },
        ..SimConfig::default()
    })
}

/// The clap command of `impt sim` (for completions).
pub fn command() -> clap::Command {
    <Args as clap::CommandFactory>::command()
}

/// The simulator's configuration from `impt sim` options (`impt watch --sim` passes its
/// own defaults first: a later option wins).
pub fn config_from(args: &[String]) -> Result<SimConfig, String> {
    let args = Args::try_parse_from(args).map_err(|e| {
        e.render()
            .to_string()
            .lines()
            .next()
            .unwrap_or_default()
            .trim_start_matches("error: ")
            .to_string()
    })?;
    config(args)
}

async fn wait_for_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{signal, SignalKind};
        match signal(SignalKind::terminate()) {
            Ok(mut term) => {
                tokio::select! {
                    _ = tokio::signal::ctrl_c() => {}
                    _ = term.recv() => {}
                }
            }
            Err(_) => {
                let _ = tokio::signal::ctrl_c().await;
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}

/// `impt sim [OPTIONS]`: `args` are the words after `sim`.
pub fn run(args: &[String]) -> i32 {
    let args = match Args::try_parse_from(args) {
        Ok(a) => a,
        Err(e) => return super::clapstyle::failure(&e, <Args as clap::CommandFactory>::command()),
    };
    // Only a sim whose port is not given keeps its place (an explicit --port is the caller's).
    let keep_place = args.port.is_none();
    let saved = match (&args.state, args.port) {
        (Some(state), None) => super::simport::saved(state),
        _ => None,
    };
    let mut busy = None;
    let args = match saved {
        Some(p) if super::simport::is_free(p) => Args {
            port: Some(p),
            ..args
        },
        Some(p) => {
            busy = Some(p);
            args
        }
        None => args,
    };
    let cfg = match config(args) {
        Ok(c) => c,
        Err(e) => {
            crate::output::stderr_line(&format!("impt sim: {e}"));
            return 2;
        }
    };
    let rt = match crate::sync::runtime(None) {
        Ok(rt) => rt,
        Err(e) => {
            crate::output::stderr_line(&format!("impt sim: {e}"));
            return 1;
        }
    };
    let accounts = cfg.accounts.clone();
    let state = cfg.state.clone().filter(|_| keep_place);
    let code = rt.block_on(async move {
        let handle = match sim::start(cfg).await {
            Ok(h) => h,
            Err(e) => {
                crate::output::stderr_line(&format!("impt sim: {e:#}"));
                return 1;
            }
        };
        // Remembered before anything is printed: whoever reads the first line may stop the
        // sim right away.
        if let Some(state) = &state {
            if let Err(e) = super::simport::save(state, handle.port()) {
                crate::output::stderr_line(&format!("impt sim: cannot remember the port: {e}"));
            }
        }
        crate::output::print_stdout_lenient(&format!(
            "impCentral simulator listening on {}\n",
            handle.base_url()
        ));
        if let Some(p) = busy {
            crate::output::print_stdout_lenient(&format!(
                "Port {p} of the last run is busy: logins saved for it no longer work.\n"
            ));
        }
        crate::output::print_stdout_lenient(&format!(
            "{}\n",
            super::simport::login_hint(&handle.base_url(), &accounts)
        ));
        wait_for_signal().await;
        handle.shutdown().await;
        0
    });
    rt.shutdown_timeout(std::time::Duration::from_millis(200));
    code
}
