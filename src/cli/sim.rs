//! `impt sim`: run the local impCentral simulator until SIGINT/SIGTERM.

use impt_sim::{self as sim, AccountSpec, SimConfig};
use std::path::PathBuf;

use crate::commands::core::options::{options, Opt};

const CONTROL_HELP: &str = "From another shell: impt sim device list|disconnect|reconnect|power-cycle|pin
(impt sim device --help) drives the virtual devices of a running simulator.

Control endpoints (no auth) at http://127.0.0.1:PORT/_sim/:
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

const ABOUT: &str = "Run a local impCentral API v5 simulator with virtual devices.

The first line printed is `impCentral simulator listening on http://127.0.0.1:PORT/v5`; it then serves until SIGINT/SIGTERM.";

options! {
    /// Options of `impt sim`.
    pub struct SimOpts {
        port: opt_val(u16) = Opt::s("port", ' ', "PORT", "TCP port on 127.0.0.1 (0 picks a free one). Default: with --state, the port of the last run without --port (kept in STATE.port) when it is free; else a free one").long_only(),
        devices: val(usize) = Opt::s("devices", ' ', "DEVICES", "Virtual devices seeded per account (online, unassigned)").long_only().default("3"),
        user: val(String) = Opt::s("user", ' ', "USER", "Username of the default account (used when no --account/--mfa-account is given)").long_only().default("user"),
        password: val(String) = Opt::s("password", ' ', "PASSWORD", "Password of the default account").long_only().default("password"),
        accounts: strs = Opt::a("account", ' ', "USER:PASSWORD[:EMAIL]", "An account as USER:PASSWORD[:EMAIL] (repeatable; replaces the default account). EMAIL defaults to USER@example.com. Login accepts the username or the email").long_only(),
        mfa_accounts: strs = Opt::a("mfa-account", ' ', "USER:PASSWORD:EMAIL:OTP", "A multi-factor account as USER:PASSWORD:EMAIL:OTP (repeatable): login answers 403 PX200 with a login_token, then needs {login_token} plus the header X-Electricimp-OTP-Token: OTP").long_only(),
        token_ttl: val(u64) = Opt::s("token-ttl", ' ', "TOKEN_TTL", "Access token lifetime in seconds").long_only().default("3600"),
        rate_limit: opt_val(u32) = Opt::s("rate-limit", ' ', "N", "Answer 429 (with Retry-After) beyond N requests per second per token").long_only(),
        state: opt_val(PathBuf) = Opt::s("state", ' ', "FILE", "Persist all entities to FILE (reloaded on start); memory only without it").long_only(),
        streams_per_account: val(usize) = Opt::s("streams-per-account", ' ', "STREAMS_PER_ACCOUNT", "Open log streams per account; a new one closes the oldest").long_only().default("1"),
        devices_per_stream: val(usize) = Opt::s("devices-per-stream", ' ', "DEVICES_PER_STREAM", "Devices per log stream; adding one more evicts the least recently added").long_only().default("5"),
        keepalive_ms: val(u64) = Opt::s("keepalive-ms", ' ', "KEEPALIVE_MS", "Milliseconds between `: keep-alive` comments on log streams").long_only().default("15000"),
        stream_idle_secs: val(u64) = Opt::s("stream-idle-secs", ' ', "SECS", "Close log streams that have had no connected client for SECS seconds").long_only().default("3600"),
        max_body: val(usize) = Opt::s("max-body", ' ', "MAX_BODY", "Largest accepted request body in bytes (larger ones get 413)").long_only().default("4194304"),
        time_scale: val(f64) = Opt::s("time-scale", ' ', "F", "Speed of the devices' virtual time (imp.wakeup, time()) relative to real time").long_only().default("1"),
        boot_step_ms: val(u64) = Opt::s("boot-step-ms", ' ', "MS", "Milliseconds between the status lines of a simulated boot (agent restarted, code downloaded, device connected) before the new code runs").long_only().default("5"),
        read_timeout: val(u64) = Opt::s("read-timeout", ' ', "SECS", "Seconds a client has to send a request's headers, and then its body (408)").long_only().default("30"),
        no_outbound: flag = Opt::f("no-outbound", ' ', "Refuse agents' HTTP requests to anything but their own agent URL (a runtime error says so); for tests and CI without internet").long_only(),
        device_boot_delay: val(f64) = Opt::s("device-boot-delay", ' ', "SECS", "Seconds a device takes to boot new code after its agent started, as a real device downloading its code (0: both start at once)").long_only().default("0"),
        dut_pool: val(usize) = Opt::s("dut-pool", ' ', "N", "Devices under test the fixtures' server.factoryblinkup() can configure, in all").long_only().default("20"),
        blinkup_time: val(f64) = Opt::s("blinkup-time", ' ', "SECS", "Seconds a factory BlinkUp takes before its device under test appears").long_only().default("2"),
        device_memory: opt_val(u64) = Opt::s("device-memory", ' ', "BYTES", "Memory free to every device's code at start, in bytes (default by imp type: imp001/imp002 80 KiB, imp003 120 KiB, imp004m 128 KiB, imp005 1 MiB, imp006 512 KiB)").long_only(),
        agent_memory: val(u64) = Opt::s("agent-memory", ' ', "BYTES", "Memory of every agent, in bytes").long_only().default(impt_sim::limits::AGENT_MEMORY.to_string()),
        message_queue_bytes: val(usize) = Opt::s("message-queue-bytes", ' ', "BYTES", "Bytes of messages that may wait for a device or its agent, each way (beyond: agent.send returns SEND_ERROR_WOULDBLOCK)").long_only().default(impt_sim::limits::QUEUE_BYTES.to_string()),
        http_in_flight: val(usize) = Opt::s("http-in-flight", ' ', "N", "Outgoing HTTP requests one agent may have under way (beyond: status 429)").long_only().default(impt_sim::limits::HTTP_IN_FLIGHT.to_string()),
        http_in_flight_total: val(usize) = Opt::s("http-in-flight-total", ' ', "N", "Outgoing HTTP requests all agents together may have under way").long_only().default(impt_sim::limits::HTTP_IN_FLIGHT_TOTAL.to_string()),
        http_max_body: val(usize) = Opt::s("http-max-body", ' ', "BYTES", "Largest response body an agent's HTTP request reads, in bytes (beyond: status 63)").long_only().default(impt_sim::limits::HTTP_MAX_BODY.to_string()),
        log_rate: val(u32) = Opt::s("log-rate", ' ', "N", "Log lines a device and its agent may emit per second (beyond: dropped and counted)").long_only().default(impt_sim::limits::LOG_LINES_PER_SEC.to_string()),
        libraries: opt_val(PathBuf) = Opt::s("libraries", ' ', "DIR", "A folder of Electric Imp libraries for `#require` (DIR/<Repo>/<X.Y.Z>/<file>, or clones DIR/<Repo>/<file>), searched before the user cache and GitHub: offline use").long_only(),
        workers: val(usize) = Opt::s("workers", ' ', "N", "Threads running the devices' and agents' code, shared by all devices (0: one per core, at least 2)").long_only().default("0"),
        cpu_share: val(f64) = Opt::s("cpu-share", ' ', "F", "Fraction of one core one device's code may use in the long run (a device that computes without end gets this share; bursts of up to 2 s of CPU run at full speed)").long_only().default("0.5"),
        cpu_limit_ms: val(u64) = Opt::s("cpu-limit-ms", ' ', "MS", "Milliseconds of CPU time one run of device or agent code (main code, a handler, a timer) may use, natives included; over it the run fails as runaway code (0: no limit)").long_only().default("1000"),
        worker_nice: val(i32) = Opt::s("worker-nice", ' ', "N", "Run the devices' code at a lower OS priority than the API (Linux nice value 0-19), so device code busy on every core never slows the API down").long_only().default("0"),
        virtual_time: flag = Opt::f("virtual-time", ' ', "Virtual time: when all device and agent code is idle, the clock (imp.wakeup, imp.sleep, time(), date(), hardware.millis()) jumps to the next timer, so long waits take no real time. Also switched by POST /_sim/time {\"virtual\": true|false}").long_only(),
        imp_type: val(String) = Opt::s("imp-type", ' ', "TYPE", "The imp type of the seeded devices and of devices added without one: imp001, imp002, imp003, imp004m, imp005, imp006 or impC001 (imp.info().type and the hardware object's pins and buses)").long_only().default(impt_vm::DEFAULT_IMP_TYPE),
        parts: opt_val(PathBuf) = Opt::s("parts", ' ', "FILE", "A part file (TOML) attached to every device that has none of its own: register-map I2C/SPI parts, scripted UARTs, pin levels over time, `trace = true` for [bus] lines").long_only(),
    }
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

fn config(args: SimOpts) -> Result<SimConfig, String> {
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

/// The clap command of `impt sim` (parsing, help, completions).
pub fn command() -> clap::Command {
    super::clapstyle::command("impt sim", ABOUT, &SimOpts::table())
        .after_long_help(CONTROL_HELP)
        .args_override_self(true)
}

/// The options of `impt sim` in `args`, or clap's error.
fn parse(args: &[String]) -> Result<SimOpts, clap::Error> {
    let m = command().try_get_matches_from(args)?;
    Ok(SimOpts::from_args(&super::clapstyle::args(
        &m,
        &SimOpts::table(),
    )))
}

/// The simulator's configuration from `impt sim` options (`impt watch --sim` passes its
/// own defaults first: a later option wins).
pub fn config_from(args: &[String]) -> Result<SimConfig, String> {
    let args = parse(args).map_err(|e| {
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
    let args = match parse(args) {
        Ok(a) => a,
        Err(e) => return super::clapstyle::failure(&e, command()),
    };
    // Only a sim whose port is not given keeps its place (an explicit --port is the caller's).
    let keep_place = args.port.is_none();
    let saved = match (&args.state, args.port) {
        (Some(state), None) => super::simport::saved(state),
        _ => None,
    };
    let mut busy = None;
    let args = match saved {
        Some(p) if super::simport::is_free(p) => SimOpts {
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

#[cfg(test)]
mod tests {
    use super::*;

    fn words(s: &str) -> Vec<String> {
        s.split_whitespace().map(str::to_string).collect()
    }

    #[test]
    fn options_are_typed_with_their_defaults() {
        let o = parse(&words(
            "--port 0 --devices 2 --time-scale 2.5 --account a:b",
        ))
        .unwrap();
        assert_eq!(o.port, Some(0));
        assert_eq!(o.devices, 2);
        assert_eq!(o.time_scale, 2.5);
        assert_eq!(o.accounts, ["a:b"]);
        let d = parse(&[]).unwrap();
        assert_eq!((d.port, d.devices, d.user.as_str()), (None, 3, "user"));
        assert_eq!(d.imp_type, impt_vm::DEFAULT_IMP_TYPE);
        assert_eq!(d.agent_memory, impt_sim::limits::AGENT_MEMORY);
        assert!(!d.virtual_time);
        assert!(parse(&words("--virtual-time")).unwrap().virtual_time);
    }

    #[test]
    fn values_are_checked_by_type_and_a_later_option_wins() {
        assert!(parse(&words("--port 70000")).is_err());
        assert!(parse(&words("--cpu-share x")).is_err());
        assert_eq!(parse(&words("--port 1 --port 2")).unwrap().port, Some(2));
    }
}
