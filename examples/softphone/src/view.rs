//! Drawing the panel: a pure function of the [`App`] and the time, onto any ratatui
//! backend (the terminal, or a `TestBackend` in the tests).
//!
//! The layout follows the guide's panel: the status with its timer at the top, the
//! header's actions under it (C4, C22), the side navigation on the left (C35) with the
//! view beside it, and a footer with what the status allows and the last message. Its
//! size is C5 x C6 in cells ([`PanelOptions::size_in_cells`](crate::options::PanelOptions::size_in_cells)).

use std::time::{Duration, Instant};

use ccc_core::{Operation, Status};
use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::{Color, Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Clear, Paragraph, Wrap};

use crate::app::{App, BREAKS, CallKind, Loadable, Prompt, record_far_end};
use crate::options::{HeaderAction, NavItem};

/// Draws the panel.
pub fn draw(frame: &mut Frame<'_>, app: &App, now: Instant) {
    let area = frame.area();
    if !app.visible {
        let line = Line::from(vec![
            Span::styled("Softphone hidden", Style::new().add_modifier(Modifier::DIM)),
            Span::raw(format!(
                " (v shows it) · {} {}",
                app.status.meaning(),
                clock(app.in_status(now))
            )),
        ]);
        frame.render_widget(Paragraph::new(line), area);
        return;
    }
    let (w, h) = app.options.size_in_cells();
    let panel = Rect::new(area.x, area.y, w.min(area.width), h.min(area.height));
    if app.minimised {
        minimised(frame, app, now, panel);
    } else {
        full(frame, app, now, panel);
    }
    if let Some(prompt) = &app.prompt {
        draw_prompt(frame, app, prompt, area);
    }
}

fn title(app: &App) -> String {
    let who = app
        .agent
        .display_name
        .clone()
        .or_else(|| (!app.agent.user_id.is_empty()).then(|| app.agent.user_id.clone()))
        .unwrap_or_else(|| "not signed in".to_owned());
    match &app.agent.extension {
        Some(ext) => format!(" CCC softphone · {who} {ext} "),
        None => format!(" CCC softphone · {who} "),
    }
}

fn minimised(frame: &mut Frame<'_>, app: &App, now: Instant, panel: Rect) {
    let area = Rect::new(panel.x, panel.y, panel.width, 3.min(panel.height));
    let mut spans = status_spans(app, now);
    if app.status == Status::Ringing {
        let from = app.call.as_ref().and_then(|c| c.caller.clone());
        spans.push(Span::raw(format!(
            " · call from {}",
            from.as_deref().unwrap_or("?")
        )));
    }
    spans.push(Span::styled(
        " · z restores",
        Style::new().add_modifier(Modifier::DIM),
    ));
    let block = Block::new().borders(Borders::ALL).title(title(app));
    frame.render_widget(Paragraph::new(Line::from(spans)).block(block), area);
}

fn full(frame: &mut Frame<'_>, app: &App, now: Instant, panel: Rect) {
    let block = Block::new().borders(Borders::ALL).title(title(app));
    let inner = block.inner(panel);
    frame.render_widget(block, panel);
    let header = if app.options.header {
        header_lines(app, inner.width)
    } else {
        Vec::new()
    };
    let header_height = u16::try_from(header.len()).unwrap_or(u16::MAX);
    let footer = footer_lines(app, now, inner.width);
    let footer_height = u16::try_from(footer.len() + 1).unwrap_or(u16::MAX);
    let [status, header_area, body, footer_area] = Layout::vertical([
        Constraint::Length(1),
        Constraint::Length(header_height),
        Constraint::Min(3),
        Constraint::Length(footer_height),
    ])
    .areas(inner);
    frame.render_widget(Paragraph::new(Line::from(status_spans(app, now))), status);
    frame.render_widget(Paragraph::new(header), header_area);
    let nav_items = app.options.nav();
    let nav_width = nav_items
        .iter()
        .map(|n| n.label().len())
        .max()
        .unwrap_or(0)
        .saturating_add(3);
    let nav_width = u16::try_from(nav_width).unwrap_or(16).min(body.width / 2);
    let [nav, content] =
        Layout::horizontal([Constraint::Length(nav_width), Constraint::Min(10)]).areas(body);
    let nav_lines: Vec<Line<'_>> = nav_items
        .iter()
        .enumerate()
        .map(|(i, item)| {
            let text = format!(
                "{}{}",
                if *item == app.nav { "▸" } else { " " },
                item.label()
            );
            let style = if *item == app.nav {
                Style::new().add_modifier(Modifier::REVERSED)
            } else {
                Style::new()
            };
            Line::from(vec![
                Span::styled(
                    format!("{}", i + 1),
                    Style::new().add_modifier(Modifier::DIM),
                ),
                Span::styled(text, style),
            ])
        })
        .collect();
    frame.render_widget(
        Paragraph::new(nav_lines).block(Block::new().borders(Borders::RIGHT)),
        nav,
    );
    let content = Rect {
        x: content.x + 1,
        width: content.width.saturating_sub(1),
        ..content
    };
    frame.render_widget(
        Paragraph::new(view_lines(app, now)).wrap(Wrap { trim: false }),
        content,
    );
    frame.render_widget(
        Paragraph::new(footer).block(Block::new().borders(Borders::TOP)),
        footer_area,
    );
}

fn status_style(status: Status) -> Style {
    let color = match status {
        Status::Ready => Color::Green,
        Status::Break => Color::Yellow,
        Status::AfterCallWork => Color::Blue,
        Status::Ringing => Color::Magenta,
        Status::Unregistered | Status::Registering | Status::SignedOut => Color::DarkGray,
        _ if status.is_call() => Color::Cyan,
        _ => Color::White,
    };
    Style::new().fg(color).add_modifier(Modifier::BOLD)
}

fn status_spans(app: &App, now: Instant) -> Vec<Span<'static>> {
    let mut spans = vec![
        Span::styled(
            format!("● {}", capitalised(app.status.meaning())),
            status_style(app.status),
        ),
        Span::raw(format!(" {}", clock(app.in_status(now)))),
    ];
    if let Some(left) = app.after_call_left(now) {
        spans.push(Span::raw(format!(" (ready in {}s)", left.as_secs())));
    } else if app.status == Status::AfterCallWork {
        spans.push(Span::raw(" (r: ready)"));
    }
    if let Some(left) = app.auto_answer_left(now) {
        spans.push(Span::raw(format!(" (auto-answer {}s)", left.as_secs())));
    }
    if app.muted {
        spans.push(Span::styled(" muted", Style::new().fg(Color::Red)));
    }
    if app.call_only {
        spans.push(Span::raw(" · outbound only"));
    }
    if let Some(mobile) = &app.mobile {
        spans.push(Span::raw(
            format!(" · on mobile {mobile}").trim_end().to_owned(),
        ));
    }
    if !app.in_flight.is_empty() {
        spans.push(Span::styled(
            format!(" … {}", app.in_flight.join(", ")),
            Style::new().add_modifier(Modifier::DIM),
        ));
    }
    spans
}

fn header_items(app: &App) -> Vec<String> {
    app.options
        .more_actions
        .iter()
        .map(|action| match action {
            HeaderAction::OnlyCall => format!(
                "[u] Only outbound {}",
                if app.call_only { "on" } else { "off" }
            ),
            HeaderAction::MobilePhoneAnswer => match &app.mobile {
                Some(_) => "[p] Answer here".to_owned(),
                None => "[p] Answer on mobile".to_owned(),
            },
            HeaderAction::Break => "[b] Break".to_owned(),
            HeaderAction::Offline => match app.status {
                Status::Unregistered | Status::SignedOut => "[l] Online".to_owned(),
                _ => "[l] Offline".to_owned(),
            },
            HeaderAction::AdjustVolume => {
                format!("[-=] Volume {}%", (app.volume * 100.0).round())
            }
        })
        .collect()
}

/// `items` as many to a line as fit in `width`, `sep` between them; an item is split
/// only when it is wider than a line.
fn pack(items: Vec<String>, sep: &str, width: u16, style: Style) -> Vec<Line<'static>> {
    let width = usize::from(width.max(1));
    let mut lines: Vec<String> = Vec::new();
    let mut current = String::new();
    for item in items {
        let mut item: Vec<char> = item.chars().collect();
        let used = current.chars().count();
        if used > 0 && used + sep.chars().count() + item.len() <= width {
            current.push_str(sep);
        } else if used > 0 {
            lines.push(std::mem::take(&mut current));
        }
        while item.len() > width {
            let rest = item.split_off(width);
            lines.push(item.into_iter().collect());
            item = rest;
        }
        current.extend(item);
    }
    if !current.is_empty() {
        lines.push(current);
    }
    lines.into_iter().map(|l| Line::styled(l, style)).collect()
}

/// The header's actions, as many to a line as fit in `width`.
fn header_lines(app: &App, width: u16) -> Vec<Line<'static>> {
    pack(header_items(app), "  ", width, Style::new().fg(Color::Cyan))
}

fn view_lines(app: &App, now: Instant) -> Vec<Line<'static>> {
    if let Some(image) = status_image(app) {
        return image;
    }
    let mut lines = vec![Line::styled(
        app.nav.label().to_owned(),
        Style::new().add_modifier(Modifier::BOLD | Modifier::UNDERLINED),
    )];
    lines.extend(match app.nav {
        NavItem::Inbound => inbound(app, now),
        NavItem::Outbound => outbound(app, now),
        NavItem::CallLog => call_log(app),
        NavItem::Transfer => transfer(app),
        NavItem::Conference => conference(app),
        NavItem::Monitor => monitor(app),
        NavItem::MyWork => my_work(app),
        NavItem::DeviceCheck => device_check(app),
        NavItem::AccessPoints => access_points(app),
    });
    lines
}

/// C8 / C9: while signed out or on break, the configured image stands in for the view
/// (its address: a terminal draws no pictures).
fn status_image(app: &App) -> Option<Vec<Line<'static>>> {
    let (what, image, hint) = match app.status {
        Status::Break => (
            "On break",
            app.options.break_image.as_ref()?,
            "r: back to work",
        ),
        Status::SignedOut | Status::Unregistered => {
            ("Offline", app.options.offline_image.as_ref()?, "l: online")
        }
        _ => return None,
    };
    Some(vec![
        Line::styled(what.to_owned(), Style::new().add_modifier(Modifier::BOLD)),
        Line::raw("[image]"),
        Line::raw(image.clone()),
        Line::raw(hint.to_owned()),
    ])
}

fn field(name: &str, value: Option<&str>) -> Line<'static> {
    Line::from(vec![
        Span::styled(
            format!("{name:<9}"),
            Style::new().add_modifier(Modifier::DIM),
        ),
        Span::raw(value.unwrap_or("-").to_owned()),
    ])
}

fn inbound(app: &App, now: Instant) -> Vec<Line<'static>> {
    let mut lines = Vec::new();
    if app.call_only {
        lines.push(Line::raw("Outbound only: no calls come in (u)"));
    }
    if let Some(mobile) = &app.mobile {
        lines.push(Line::raw(format!(
            "Calls ring on the mobile {mobile} (p: here)"
        )));
    }
    match app.call.as_ref().filter(|c| c.kind == CallKind::Inbound) {
        Some(call) => {
            lines.push(field("Caller", call.caller.as_deref()));
            lines.push(field("Callee", call.callee.as_deref()));
            lines.push(field("Contact", call.contact_id.as_deref()));
            lines.push(field("Group", call.skill_group.as_deref()));
            if call.ivr_data.is_some() {
                lines.push(field("IVR data", call.ivr_data.as_deref()));
            }
            lines.push(call_state(app, call, now));
            if !call.heard_dtmf.is_empty() {
                lines.push(field("Keys in", Some(&call.heard_dtmf)));
            }
            if app.status == Status::Ringing {
                lines.push(Line::styled(
                    "a / Enter: answer".to_owned(),
                    Style::new().fg(Color::Magenta),
                ));
            } else if call.ended.is_none() {
                lines.push(Line::raw("h hang up · o hold · s survey"));
            } else {
                lines.push(Line::raw("S SMS survey · M missed-call SMS · d recordings"));
            }
        }
        None => lines.push(Line::raw("No inbound call.")),
    }
    if app.rules.customer.is_some() {
        lines.push(Line::styled(
            "i: a customer calls in (emulator)".to_owned(),
            Style::new().add_modifier(Modifier::DIM),
        ));
    }
    lines
}

fn call_state(app: &App, call: &crate::app::Call, now: Instant) -> Line<'static> {
    let text = if let Some((at, how)) = call.ended {
        let talked = call.talk_time(now).map(clock);
        match talked {
            Some(t) => format!("Ended ({how}) after {t}"),
            None => format!(
                "Ended ({how}) {} ago",
                clock(now.saturating_duration_since(at))
            ),
        }
    } else {
        match app.status {
            Status::Ringing => {
                let left = app.ring_left(now).map_or(0, |d| d.as_secs());
                format!(
                    "Ringing {} (break in {left}s)",
                    clock(now.saturating_duration_since(call.began))
                )
            }
            Status::Dialing => format!(
                "Dialing {}",
                clock(now.saturating_duration_since(call.began))
            ),
            Status::Hold => format!("On hold {}", clock(app.in_status(now))),
            status => {
                let talk = call.talk_time(now).map_or_else(String::new, clock);
                let codec = call
                    .codec
                    .as_deref()
                    .map_or_else(String::new, |c| format!(" ({c})"));
                format!("{} {talk}{codec}", capitalised(status.meaning()))
            }
        }
    };
    Line::styled(text, status_style(app.status))
}

fn outbound(app: &App, now: Instant) -> Vec<Line<'static>> {
    let caller = match app.caller() {
        "" => "default".to_owned(),
        other => other.to_owned(),
    };
    let mut lines = vec![
        Line::from(vec![
            Span::styled("Number   ", Style::new().add_modifier(Modifier::DIM)),
            Span::styled(
                format!("{}▏", app.entry),
                Style::new().add_modifier(Modifier::BOLD),
            ),
        ]),
        field("Caller", Some(&format!("◂ {caller} ▸"))),
    ];
    let pressed = app.entry.chars().last();
    for row in ["123", "456", "789", "*0#"] {
        let mut spans = vec![Span::raw("  ")];
        for key in row.chars() {
            let style = if Some(key) == pressed {
                Style::new().add_modifier(Modifier::REVERSED)
            } else {
                Style::new()
            };
            spans.push(Span::styled(format!(" {key} "), style));
            spans.push(Span::raw(" "));
        }
        lines.push(Line::from(spans));
    }
    // The current outbound call, or the last one and how it ended.
    let call = app.call.as_ref().filter(|c| c.kind != CallKind::Inbound);
    if let Some(call) = call {
        lines.push(field("To", call.callee.as_deref()));
        lines.push(call_state(app, call, now));
        if !call.sent_dtmf.is_empty() {
            lines.push(field("DTMF", Some(&call.sent_dtmf)));
        }
    }
    if app.allowed().contains(Operation::SendDtmf) {
        lines.push(Line::raw("0-9 * #: DTMF · h hang up · o hold"));
    } else if call.is_none_or(|c| c.ended.is_some()) {
        lines.push(Line::raw("Enter/c dial · R redial · ◂▸ caller"));
    }
    lines
}

fn loading<T>(l: &Loadable<T>, what: &str) -> Option<Vec<Line<'static>>> {
    match l {
        Loadable::Idle => Some(vec![Line::raw(format!("Ctrl-R loads {what}"))]),
        Loadable::Loading => Some(vec![Line::raw(format!("Loading {what}…"))]),
        Loadable::Failed(e) => Some(vec![Line::styled(
            format!("Could not load {what}: {e}"),
            Style::new().fg(Color::Red),
        )]),
        Loadable::Ready(_) => None,
    }
}

fn row(selected: bool, text: String) -> Line<'static> {
    if selected {
        Line::styled(
            format!("▸{text}"),
            Style::new().add_modifier(Modifier::REVERSED),
        )
    } else {
        Line::raw(format!(" {text}"))
    }
}

fn call_log(app: &App) -> Vec<Line<'static>> {
    if let Some(lines) = loading(&app.lists.call_log, "the call log") {
        return lines;
    }
    let Some(page) = app.lists.call_log.get() else {
        return Vec::new();
    };
    let total = app
        .lists
        .call_log_total
        .map_or_else(String::new, |t| format!(" of {t}"));
    let mut lines = vec![Line::raw(format!(
        "Page {}{total} · Enter call back · d recordings",
        page.page_number
    ))];
    if page.records.is_empty() {
        lines.push(Line::raw("No calls."));
    }
    for (i, r) in page.records.iter().enumerate() {
        let inbound = r
            .contact_type
            .as_deref()
            .is_some_and(|t| t.eq_ignore_ascii_case("inbound"));
        let number = record_far_end(r).unwrap_or_else(|| "?".into());
        let when = r.start_time.map_or_else(String::new, utc_time);
        let length = r.duration.map_or_else(String::new, |d| {
            clock(Duration::from_secs(d.max(0).unsigned_abs()))
        });
        lines.push(row(
            i == app.selection(),
            format!(
                "{} {number} {when} {length}",
                if inbound { "in " } else { "out" }
            ),
        ));
    }
    if let Some((contact, recordings)) = &app.lists.recordings {
        lines.push(Line::raw(format!("Recordings of {contact}:")));
        match recordings {
            Loadable::Ready(list) if list.is_empty() => lines.push(Line::raw(" none")),
            Loadable::Ready(list) => {
                for r in list {
                    lines.push(Line::raw(format!(" {} {}", r.file_name, r.url)));
                }
            }
            other => lines.extend(loading(other, "the recordings").unwrap_or_default()),
        }
    }
    lines
}

fn entry_line(app: &App, name: &str) -> Line<'static> {
    Line::from(vec![
        Span::styled(
            format!("{name:<9}"),
            Style::new().add_modifier(Modifier::DIM),
        ),
        Span::styled(
            format!("{}▏", app.entry),
            Style::new().add_modifier(Modifier::BOLD),
        ),
    ])
}

fn agents(app: &App) -> Vec<Line<'static>> {
    if let Some(lines) = loading(&app.lists.agents, "the agents") {
        return lines;
    }
    let list = app.lists.agents.get().cloned().unwrap_or_default();
    if list.is_empty() {
        return vec![Line::raw("No other agents.")];
    }
    list.iter()
        .enumerate()
        .map(|(i, a)| {
            row(
                i == app.selection(),
                format!(
                    "{} {} {}",
                    a.display_name.as_deref().unwrap_or("?"),
                    a.dn.as_deref().unwrap_or("-"),
                    a.state.as_deref().unwrap_or("")
                ),
            )
        })
        .collect()
}

fn third_party(app: &App) -> Option<Line<'static>> {
    let call = app.call.as_ref().filter(|c| c.ended.is_none())?;
    let third = call.third.as_deref()?;
    Some(field("Third", Some(third)))
}

fn transfer(app: &App) -> Vec<Line<'static>> {
    let mut lines = vec![entry_line(app, "To")];
    lines.extend(third_party(app));
    lines.push(Line::raw(
        "Enter/t transfer · k consult · f finish · g cancel",
    ));
    lines.extend(agents(app));
    lines.extend(groups(app));
    lines
}

/// The agent's skill groups, below the agents (the rows go on from theirs).
fn groups(app: &App) -> Vec<Line<'static>> {
    if let Some(lines) = loading(&app.lists.groups, "the skill groups") {
        return lines;
    }
    let first = app.lists.agents.get().map_or(0, Vec::len);
    let list = app.lists.groups.get().cloned().unwrap_or_default();
    list.iter()
        .enumerate()
        .map(|(i, g)| {
            row(
                first + i == app.selection(),
                format!("group {} ({})", g.skill_group_name, g.skill_group_id),
            )
        })
        .collect()
}

fn conference(app: &App) -> Vec<Line<'static>> {
    let mut lines = vec![entry_line(app, "Add")];
    lines.extend(third_party(app));
    lines.push(Line::raw(
        "Enter/k consult · j join · x drop · e call agent",
    ));
    lines.extend(agents(app));
    lines
}

fn monitor(app: &App) -> Vec<Line<'static>> {
    let mut lines = vec![entry_line(app, "Agent"), Line::raw("Enter listen · h stop")];
    if let Some(l) = loading(&app.lists.states, "the agent states") {
        lines.extend(l);
        return lines;
    }
    let states = app
        .lists
        .states
        .get()
        .map(|s| s.list.clone())
        .unwrap_or_default();
    for (i, s) in states.iter().enumerate() {
        lines.push(row(
            i == app.selection(),
            format!(
                "{} {} {}",
                s.login_name
                    .as_deref()
                    .or(s.agent_name.as_deref())
                    .unwrap_or("?"),
                s.dn.as_deref().unwrap_or("-"),
                s.state.as_deref().unwrap_or("")
            ),
        ));
    }
    lines
}

fn seconds(value: Option<i64>) -> String {
    value.map_or_else(
        || "-".to_owned(),
        |s| clock(Duration::from_secs(s.max(0).unsigned_abs())),
    )
}

fn count(value: Option<i64>) -> String {
    value.map_or_else(|| "-".to_owned(), |n| n.to_string())
}

fn my_work(app: &App) -> Vec<Line<'static>> {
    if let Some(lines) = loading(&app.lists.my_work, "today's figures") {
        return lines;
    }
    let stats = app
        .lists
        .my_work
        .get()
        .and_then(|r| r.data_list.as_ref())
        .and_then(|p| p.list.first().cloned());
    let Some(s) = stats else {
        return vec![Line::raw("No figures for today yet.")];
    };
    let mut lines = vec![Line::raw("Today (UTC) · Ctrl-R reloads")];
    if let Some(o) = &s.overall {
        lines.push(field("Calls", Some(&count(o.total_calls))));
        lines.push(field("Talk", Some(&seconds(o.total_talk_time))));
        lines.push(field("Avg talk", Some(&seconds(o.average_talk_time))));
    }
    if let Some(i) = &s.inbound {
        lines.push(field(
            "Inbound",
            Some(&format!(
                "{} of {} answered",
                count(i.calls_handled),
                count(i.calls_offered)
            )),
        ));
    }
    if let Some(o) = &s.outbound {
        lines.push(field(
            "Outbound",
            Some(&format!(
                "{} of {} answered",
                count(o.calls_answered),
                count(o.calls_dialed)
            )),
        ));
    }
    lines.push(field("Break", Some(&seconds(s.total_break_time))));
    lines
}

fn device_check(app: &App) -> Vec<Line<'static>> {
    let mut lines = vec![field("Audio", Some(crate::audio::DESCRIPTION))];
    let check = match &app.lists.device {
        Loadable::Idle => {
            lines.push(Line::raw("Enter runs the check"));
            return lines;
        }
        Loadable::Loading => {
            lines.push(Line::raw("Checking…"));
            return lines;
        }
        Loadable::Failed(e) => {
            lines.push(Line::styled(e.clone(), Style::new().fg(Color::Red)));
            return lines;
        }
        Loadable::Ready(check) => check,
    };
    let ok = |good: bool| {
        if good {
            Span::styled("✓ ", Style::new().fg(Color::Green))
        } else {
            Span::styled("✗ ", Style::new().fg(Color::Red))
        }
    };
    let env = &check.environment;
    lines.push(Line::from(vec![
        ok(env.is_compatible()),
        Span::raw(if env.is_compatible() {
            "WebRTC environment".to_owned()
        } else {
            format!("environment: {}", env.problems.join("; "))
        }),
    ]));
    match &check.network {
        Ok(report) => {
            for t in &report.targets {
                let reach = match &t.outcome {
                    ccc_media::check::Outcome::Reachable { after } => {
                        format!("{:.1} ms", after.as_secs_f64() * 1000.0)
                    }
                    other => format!("{other:?}"),
                };
                lines.push(Line::from(vec![
                    ok(t.outcome.is_reachable()),
                    Span::raw(format!("{:?} {} {reach}", t.target.service, t.target.url)),
                ]));
            }
        }
        Err(e) => lines.push(Line::from(vec![
            ok(false),
            Span::raw(format!("network: {e}")),
        ])),
    }
    match &check.devices {
        None => lines.push(Line::raw("Sound devices: none in this build")),
        Some(d) => {
            lines.push(Line::from(vec![
                ok(d.capture.is_ok()),
                Span::raw(match &d.capture {
                    Ok(level) => format!(
                        "microphone {} ({:.0} dBFS)",
                        level.device.name, level.rms_dbfs
                    ),
                    Err(e) => format!("microphone (8001): {e}"),
                }),
            ]));
            lines.push(Line::from(vec![
                ok(d.playback.is_ok()),
                Span::raw(match &d.playback {
                    Ok(device) => format!("speaker {}", device.name),
                    Err(e) => format!("speaker (8002): {e}"),
                }),
            ]));
        }
    }
    lines
}

fn access_points(app: &App) -> Vec<Line<'static>> {
    let mut lines = vec![field("In use", Some(&app.access_point))];
    if !app.rules.switch_adapter {
        lines.push(Line::raw(
            "Direct connection: access points are off (isEnableSwitchAdapter, C39)",
        ));
        return lines;
    }
    lines.push(Line::raw("Enter switch · Ctrl-R time again"));
    if let Some(l) = loading(&app.lists.access_points, "the access points") {
        lines.extend(l);
        return lines;
    }
    let reports = app.lists.access_points.get().cloned().unwrap_or_default();
    let mark = |region: &str| if region == app.access_point { "*" } else { "" };
    lines.push(row(
        app.selection() == 0,
        format!("default{}", mark("default")),
    ));
    if reports.is_empty() {
        lines.push(Line::raw(
            "The platform lists no access point: calls connect directly.",
        ));
    }
    for (i, r) in reports.iter().enumerate() {
        let time = r
            .best()
            .and_then(ccc_media::access_point::ServerReport::median_to_relay)
            .map_or_else(
                || "unreachable".to_owned(),
                |d| format!("{:.1} ms", d.as_secs_f64() * 1000.0),
            );
        lines.push(row(
            i + 1 == app.selection(),
            format!("{}{} {time}", r.region, mark(&r.region)),
        ));
    }
    lines
}

fn hints(app: &App) -> Vec<&'static str> {
    let allowed = app.allowed();
    let header = |a: HeaderAction| app.options.has_action(a);
    let mut hints = Vec::new();
    let table: [(Operation, &'static str, bool); 19] = [
        (
            Operation::Register,
            "l sign in",
            header(HeaderAction::Offline),
        ),
        (Operation::LogIn, "l sign in", header(HeaderAction::Offline)),
        (Operation::Answer, "a answer", true),
        (Operation::HangUp, "h hang up", true),
        (Operation::CallHold, "o hold", true),
        (Operation::CallRetrieve, "o retrieve", true),
        (Operation::Ready, "r ready", true),
        (Operation::Call, "c dial", true),
        (Operation::Redial, "R redial", true),
        (Operation::SendDtmf, "0-9 DTMF", true),
        (Operation::ToggleMuteInCall, "m mute", true),
        (Operation::ThirdCallTransfer, "t transfer", true),
        (Operation::ConferenceInit, "k consult", true),
        (Operation::ThirdCallTransferFinished, "f finish", true),
        (Operation::ThirdCallRetrieve, "g cancel", true),
        (Operation::ConferenceFinished, "j join", true),
        (Operation::ThirdCallHangupThird, "x drop", true),
        (
            Operation::ApplyForBreak,
            "b break",
            header(HeaderAction::Break),
        ),
        (
            Operation::LogOut,
            "l offline",
            header(HeaderAction::Offline),
        ),
    ];
    for (op, hint, shown) in table {
        if shown && allowed.contains(op) && !hints.contains(&hint) {
            hints.push(hint);
        }
    }
    hints.push("? help");
    hints
}

/// What the status allows, then the last message (or the last event), fitted to
/// `width`.
fn footer_lines(app: &App, now: Instant, width: u16) -> Vec<Line<'static>> {
    let dim = Style::new().add_modifier(Modifier::DIM);
    let hints = hints(app).into_iter().map(str::to_owned).collect();
    let mut lines = pack(hints, " · ", width, dim);
    let words = |text: &str| text.split(' ').map(str::to_owned).collect::<Vec<_>>();
    match app.toast(now) {
        Some(t) => {
            let style = if t.error {
                Style::new().fg(Color::Red)
            } else {
                Style::new().fg(Color::Yellow)
            };
            lines.extend(pack(words(&t.text), " ", width, style).into_iter().take(3));
        }
        None => {
            if let Some(e) = &app.last_event {
                lines.extend(pack(words(&format!("last event: {e}")), " ", width, dim));
            }
        }
    }
    lines
}

fn draw_prompt(frame: &mut Frame<'_>, app: &App, prompt: &Prompt, area: Rect) {
    let (title, lines): (&str, Vec<Line<'static>>) = match prompt {
        Prompt::Break => (
            " Break ",
            BREAKS
                .iter()
                .map(|(id, name)| Line::raw(format!("{id} {name}")))
                .chain([Line::raw("Esc cancels")])
                .collect(),
        ),
        Prompt::Mobile(number) => (
            " Answer on mobile ",
            vec![
                Line::raw("The mobile number:"),
                Line::styled(
                    format!("{number}▏"),
                    Style::new().add_modifier(Modifier::BOLD),
                ),
                Line::raw("Enter confirms · Esc cancels"),
            ],
        ),
        Prompt::Help => (" Keys ", help_lines(app)),
    };
    let height = u16::try_from(lines.len() + 2)
        .unwrap_or(u16::MAX)
        .min(area.height);
    let width = area.width.min(64);
    let popup = Rect::new(
        area.x + (area.width - width) / 2,
        area.y + (area.height - height) / 2,
        width,
        height,
    );
    frame.render_widget(Clear, popup);
    frame.render_widget(
        Paragraph::new(lines)
            .wrap(Wrap { trim: true })
            .block(Block::new().borders(Borders::ALL).title(title)),
        popup,
    );
}

fn help_lines(app: &App) -> Vec<Line<'static>> {
    let mut lines: Vec<Line<'static>> = [
        "0-9 * # +  dial pad (DTMF in a call on Outbound)",
        "Enter  the view's action · Esc clear · Backspace",
        "Tab / F1-F9  views · Up/Down select · Left/Right caller",
        "a answer · h hang up · o hold/retrieve · m mute",
        "r ready · R redial · c dial",
        "t transfer · k consult · f finish · g cancel",
        "e call agent · j join · x drop third party",
        "s survey · S SMS survey · M missed-call SMS · d recordings",
        "Ctrl-R reload · ! reset status · z minimise · v hide",
        "q quit",
    ]
    .into_iter()
    .map(Line::raw)
    .collect();
    if app.options.header {
        lines.insert(
            5,
            Line::raw("u only outbound · p mobile · b break · l offline · - = volume"),
        );
    }
    if app.rules.customer.is_some() {
        lines.push(Line::raw("i a customer calls in (embedded emulator)"));
    }
    lines
}

/// The panel drawn on a `width` x `height` ratatui `TestBackend`, as text: one line
/// per row (what a test, or a screenshot in a bug report, compares).
pub fn render_text(app: &App, now: Instant, width: u16, height: u16) -> String {
    let mut terminal = ratatui::Terminal::new(ratatui::backend::TestBackend::new(width, height))
        .unwrap_or_else(|never| match never {});
    let _ = terminal.draw(|f| draw(f, app, now));
    let buffer = terminal.backend().buffer();
    buffer
        .content()
        .chunks(usize::from(buffer.area.width.max(1)))
        .map(|row| {
            row.iter()
                .map(ratatui::buffer::Cell::symbol)
                .collect::<String>()
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// `mm:ss`, or `h:mm:ss` from an hour on.
pub fn clock(d: Duration) -> String {
    let s = d.as_secs();
    if s >= 3600 {
        format!("{}:{:02}:{:02}", s / 3600, s / 60 % 60, s % 60)
    } else {
        format!("{:02}:{:02}", s / 60, s % 60)
    }
}

/// Milliseconds since the epoch as `MM-DD HH:MM` (UTC).
fn utc_time(ms: i64) -> String {
    let secs = ms.div_euclid(1000);
    let days = secs.div_euclid(86_400);
    let rem = secs.rem_euclid(86_400);
    // Days since 1970-01-01 to month and day (Howard Hinnant's civil_from_days).
    let z = days + 719_468;
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    format!("{m:02}-{d:02} {:02}:{:02}", rem / 3600, rem / 60 % 60)
}

fn capitalised(s: &str) -> String {
    let mut chars = s.chars();
    chars.next().map_or_else(String::new, |first| {
        first.to_uppercase().chain(chars).collect()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn packing_keeps_items_whole_and_splits_only_what_cannot_fit() {
        let items = ["a answer", "h hang up", "o hold"]
            .map(str::to_owned)
            .to_vec();
        let text = |lines: Vec<Line<'_>>| -> Vec<String> {
            lines.iter().map(ToString::to_string).collect()
        };
        assert_eq!(
            text(pack(items.clone(), " · ", 20, Style::new())),
            ["a answer · h hang up", "o hold"]
        );
        assert_eq!(
            text(pack(items, " · ", 100, Style::new())),
            ["a answer · h hang up · o hold"]
        );
        assert_eq!(
            text(pack(
                vec!["abcdefgh".into(), "ij".into()],
                " ",
                3,
                Style::new()
            )),
            ["abc", "def", "gh", "ij"]
        );
    }

    #[test]
    fn clocks_and_dates() {
        assert_eq!(clock(Duration::from_secs(75)), "01:15");
        assert_eq!(clock(Duration::from_secs(3_725)), "1:02:05");
        assert_eq!(utc_time(0), "01-01 00:00");
        // 2024-02-29 13:45 UTC.
        assert_eq!(utc_time(1_709_214_300_000), "02-29 13:45");
        assert_eq!(capitalised("after-call work"), "After-call work");
    }
}
