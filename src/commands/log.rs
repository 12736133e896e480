//! `log get` and `log stream`, and the log streaming used by `build run --log`,
//! `dg restart --log` and `device restart --log`.

use serde_json::{json, Value};
use tokio::sync::mpsc;

use super::core::errmap::LineMaps;
use super::core::ident::{find, project_dg};
use super::core::options::{options, Opt};
use super::core::stream::{format_log, Tail};
use super::core::{display, CommandCtx};
use crate::api::id_of;
use crate::error::{Entity, ImptError, Result};
use crate::output::logfilter::{self, LogOptions};

/// Lines typed on stdin, read by a detached thread (so a pending read never blocks exit).
/// `None` from the receiver = end of input.
fn stdin_lines() -> mpsc::UnboundedReceiver<String> {
    let (tx, rx) = mpsc::unbounded_channel();
    std::thread::spawn(move || {
        let stdin = std::io::stdin();
        let mut line = String::new();
        loop {
            line.clear();
            match stdin.read_line(&mut line) {
                Ok(0) | Err(_) => break,
                Ok(_) => {
                    if tx.send(line.clone()).is_err() {
                        break;
                    }
                }
            }
        }
    });
    rx
}

/// The device of `log get`: the option, else the single device of the Project's group.
async fn log_device(ctx: &CommandCtx, option: Option<String>) -> Result<Value> {
    if let Some(ident) = option {
        return find(ctx, Entity::Device, &ident).await;
    }
    let Some(project) = ctx.project()? else {
        return Err(ImptError::NoIdentifier(Entity::Device));
    };
    let dg = project_dg(ctx, project.device_group_id().unwrap_or_default()).await?;
    let mut devices = ctx
        .list(
            Entity::Device,
            &[("devicegroup.id", id_of(&dg).to_string())],
        )
        .await?;
    match devices.len() {
        0 => Err(ImptError::NoIdentifier(Entity::Device)),
        1 => Ok(devices.remove(0)),
        _ => {
            let shown = display::list_items(ctx, Entity::Device, &devices).await?;
            Err(ImptError::Multiple {
                entity: Entity::Device,
                ident: None,
                matches: shown.as_array().cloned().unwrap_or_default(),
            })
        }
    }
}

/// The device's log history, newest first, page by page, error frames mapped while the
/// device ran the project's code.
struct History {
    device_id: String,
    maps: Option<LineMaps>,
    /// The next page of the server to read.
    next: u64,
    ended: bool,
    /// Entries read and not shown yet (filtered pages).
    pending: std::collections::VecDeque<Value>,
    /// Pages of matching lines handed out so far.
    shown_pages: u64,
}

impl History {
    /// The number of the next page of matching lines.
    fn next_page_number(&self) -> u64 {
        self.shown_pages + 1
    }

    /// A page of the server's history, mapped.
    async fn server_page(&mut self, ctx: &CommandCtx, page: u64, size: u64) -> Result<Vec<Value>> {
        let logs = ctx
            .client()
            .await?
            .device_logs(&self.device_id, page, size)
            .await?;
        // Newest first: entries older than a code load may come from another deployment.
        Ok(logs
            .into_iter()
            .map(|l| {
                let loads = super::core::errmap::is_code_load(&l);
                let l = match self.maps.as_ref() {
                    Some(m) => m.map_entry(l),
                    None => l,
                };
                if loads {
                    self.maps = None;
                }
                l
            })
            .collect())
    }

    /// The next `size` entries the log filter keeps (fewer at the end of the history):
    /// with --source, --type or --grep a page is a page of matching lines, read from as
    /// many pages of the server as it takes.
    async fn next_kept(&mut self, ctx: &CommandCtx, size: u64) -> Result<Vec<Value>> {
        let filter = logfilter::current();
        while (self.pending.len() as u64) < size && !self.ended {
            let page = self.server_page(ctx, self.next, size.max(100)).await?;
            self.next += 1;
            self.ended = (page.len() as u64) < size.max(100);
            self.pending
                .extend(page.into_iter().filter(|l| filter.keeps_entry(l)));
        }
        let n = (size as usize).min(self.pending.len());
        Ok(self.pending.drain(..n).collect())
    }
}

/// Prints entries of the history (the filter is already applied or applies here).
fn show_entries(ctx: &CommandCtx, logs: &[Value]) {
    let filter = logfilter::current();
    if ctx.ui.is_json() && filter.json_lines() {
        for l in logs {
            ctx.ui.log_line(&format_log(l, false), l);
        }
    } else if ctx.ui.is_json() {
        let kept = logs
            .iter()
            .filter(|l| filter.shown(&format_log(l, false), l).is_some())
            .cloned();
        ctx.ui.result(&Value::Array(kept.collect()));
    } else {
        let lines: Vec<Value> = logs
            .iter()
            .filter_map(|l| filter.shown(&format_log(l, false), l))
            .map(|t| json!(t))
            .collect();
        ctx.ui.result(&Value::Array(lines));
    }
}

/// Prints page `page` of the history; returns whether it was the last one.
async fn print_page(ctx: &CommandCtx, h: &mut History, page: u64, size: u64) -> Result<bool> {
    if logfilter::current().narrows() {
        // Pages of matching lines: skip the earlier ones.
        while h.next_page_number() < page {
            let skipped = h.next_kept(ctx, size).await?;
            h.shown_pages += 1;
            if (skipped.len() as u64) < size {
                show_entries(ctx, &[]);
                return Ok(true);
            }
        }
        let logs = h.next_kept(ctx, size).await?;
        h.shown_pages += 1;
        show_entries(ctx, &logs);
        return Ok((logs.len() as u64) < size || (h.ended && h.pending.is_empty()));
    }
    let logs = h.server_page(ctx, page, size).await?;
    show_entries(ctx, &logs);
    Ok((logs.len() as u64) < size)
}

options! {
    /// Which log lines are shown, and where they are also written: `log get`, `log stream`
    /// and `impt watch`.
    pub struct FilterOpts {
        source: strs = Opt::a("source", ' ', "agent|device", "Shows only the lines of this source. Repeatable (impt-rs extension).").long_only().choices(&crate::output::logfilter::SOURCES),
        log_type: strs = Opt::a("type", ' ', "log_type", "Shows only lines of this type, e.g. server.log, server.error, agent.log, agent.error, status. Repeatable (impt-rs extension).").long_only(),
        grep: str = Opt::s("grep", ' ', "regex", "Shows only lines whose message matches this regular expression (impt-rs extension).").long_only(),
        no_timestamps: flag = Opt::f("no-timestamps", ' ', "Hides the timestamps (impt-rs extension).").long_only(),
        log_file: opt_val(std::path::PathBuf) = Opt::s("log-file", ' ', "file", "Also appends the shown lines to this file (impt-rs extension).").long_only(),
    }
}

impl FilterOpts {
    /// The filter of these options.
    pub fn log_options(&self, json_lines: bool) -> LogOptions {
        LogOptions {
            sources: self.source.clone(),
            types: self.log_type.clone(),
            grep: self.grep.clone(),
            no_timestamps: self.no_timestamps,
            log_file: self.log_file.clone(),
            json_lines,
        }
    }
}

options! {
    /// Options of `log get`.
    pub struct GetOpts {
        device: str = Opt::s("device", 'd', "DEVICE_IDENTIFIER", "The Device. Default: the only Device assigned to the Project's Device Group."),
        page_size: num = Opt::n("page-size", 's', "number_of_entries", "How many log entries one page has.").default("20"),
        page_number: num = Opt::n("page-number", 'n', "page_number", "Shows only this page (page 1 has the newest entries) and exits."),
        filter: flatten(FilterOpts),
        json_lines: flag = Opt::f("json-lines", ' ', "With --output json, prints each log entry as one compact JSON object per line, like impt watch -z json (impt-rs extension).").long_only(),
    }
}

/// Installs the log filter of the options shared by `log get` and `log stream`.
fn install_filter(o: LogOptions) -> Result<()> {
    logfilter::install(logfilter::LogFilter::new(&o)?);
    Ok(())
}

pub async fn get(ctx: &CommandCtx, o: &GetOpts) -> Result<()> {
    // Registered before anything is shown: a Ctrl-C at any prompt ends the command cleanly.
    let ctrl_c = super::core::interrupt::listener()?;
    tokio::pin!(ctrl_c);
    install_filter(o.filter.log_options(o.json_lines))?;
    let device = log_device(ctx, o.device.clone()).await?;
    let id = id_of(&device).to_string();
    // In a project whose files the device's group runs, error frames name those files.
    let maps = match crate::api::rel_id(&device, "devicegroup") {
        Some(g) => match ctx.get(Entity::DeviceGroup, g).await {
            Ok(Some(dg)) => super::core::errmap::project_maps(ctx, &dg).await,
            _ => None,
        },
        None => None,
    };
    let size = o.page_size.unwrap_or(20);
    let mut history = History {
        device_id: id.clone(),
        maps,
        next: 1,
        ended: false,
        pending: Default::default(),
        shown_pages: 0,
    };
    if let Some(n) = o.page_number {
        print_page(ctx, &mut history, n, size).await?;
        return Ok(());
    }
    let mut input = stdin_lines();
    let mut page = 1;
    let mut finished = false;
    loop {
        if finished {
            ctx.ui.info("No more logs are available.");
            return Ok(());
        }
        finished = tokio::select! {
            _ = &mut ctrl_c => return Ok(()),
            last = print_page(ctx, &mut history, page, size) => last?,
        };
        ctx.ui.succeeds();
        ctx.ui.info("");
        ctx.ui
            .info("Press <Enter> to see more logs or <Ctrl-C> to exit.");
        tokio::select! {
            _ = &mut ctrl_c => return Ok(()),
            line = input.recv() => {
                if line.is_none() {
                    // End of input: the original just ends here, without a status line.
                    std::process::exit(0);
                }
            }
        }
        page += 1;
    }
}

options! {
    /// Options of `log stream`.
    pub struct StreamOpts {
        device: strs = Opt::a("device", 'd', "DEVICE_IDENTIFIER", "A Device to stream logs of. Repeatable."),
        dg: strs = Opt::a("dg", 'g', "DEVICE_GROUP_IDENTIFIER", "A Device Group whose Devices' logs are streamed. Repeatable. Default: the Project's Device Group."),
        filter: flatten(FilterOpts),
        json_lines: flag = Opt::f("json-lines", ' ', "With --output json, prints each log entry as one compact JSON object per line, like impt watch -z json (impt-rs extension).").long_only(),
    }
}

pub async fn stream(ctx: &CommandCtx, o: &StreamOpts) -> Result<()> {
    install_filter(o.filter.log_options(o.json_lines))?;
    let mut ids: Vec<String> = Vec::new();
    for d in o.device.clone() {
        if d.is_empty() {
            return Err(ImptError::NoIdentifier(Entity::Device));
        }
        ids.push(id_of(&find(ctx, Entity::Device, &d).await?).to_string());
    }
    let mut groups = Vec::new();
    for g in o.dg.clone() {
        groups.push(if g.is_empty() {
            let project = ctx
                .project()?
                .ok_or(ImptError::NoIdentifier(Entity::DeviceGroup))?;
            project_dg(ctx, project.device_group_id().unwrap_or_default()).await?
        } else {
            find(ctx, Entity::DeviceGroup, &g).await?
        });
    }
    if o.device.is_empty() && o.dg.is_empty() {
        if let Some(project) = ctx.project()? {
            groups.push(project_dg(ctx, project.device_group_id().unwrap_or_default()).await?);
        }
    }
    for g in &groups {
        for d in ctx
            .list(Entity::Device, &[("devicegroup.id", id_of(g).to_string())])
            .await?
        {
            ids.push(id_of(&d).to_string());
        }
    }
    // In a project whose files the group runs, error frames name those files.
    let mut maps = None;
    for g in &groups {
        maps = maps.or(super::core::errmap::project_maps(ctx, g).await);
    }
    let ctrl_c = super::core::interrupt::listener()?;
    tokio::pin!(ctrl_c);
    let tail = tokio::select! {
        _ = &mut ctrl_c => return Ok(()),
        t = Tail::open(ctx, &ids) => t?,
    };
    match maps {
        Some(m) => tail.with_maps(m, false).run(ctx).await,
        None => tail.run(ctx).await,
    }
}
