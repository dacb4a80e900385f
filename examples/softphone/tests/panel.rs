//! The panel without a terminal or a network: the app state fed with the workbench's
//! events and the user's keys, drawn on ratatui's `TestBackend`, the text of the frame
//! asserted. Each UI option of the guide is shown to be honoured.

use std::time::{Duration, Instant};

use ccc_core::config::Config;
use ccc_core::{ErrorCode, ErrorNotify, Status};
use ccc_softphone::App;
use ccc_softphone::app::{Prompt, Rules};
use ccc_softphone::command::{Command, Outcome, Payload};
use ccc_softphone::options::{NavItem, PanelOptions};
use ccc_workbench::Event;
use ccc_workbench::event::{CallComing, StatusChange};
use ratatui::crossterm::event::{KeyCode, KeyEvent};
use serde_json::json;

fn app_with(options: serde_json::Value, config: Config) -> (App, Instant) {
    let now = Instant::now();
    let panel = PanelOptions::from_json(&options).expect("the options are good");
    let rules = Rules::new(
        &config,
        Some(("13800000009".to_owned(), "02150000001".to_owned())),
    );
    let mut app = App::new(panel, rules, now);
    app.agent.display_name = Some("Alice".to_owned());
    app.agent.extension = Some("8001".to_owned());
    (app, now)
}

fn config() -> ccc_core::config::ConfigBuilder {
    Config::builder("ccc-test", true)
}

fn app(options: serde_json::Value) -> (App, Instant) {
    app_with(options, config().build().unwrap())
}

/// The frame's text, one line per row.
fn screen(app: &App, now: Instant) -> String {
    ccc_softphone::view::render_text(app, now, 80, 40)
}

fn status(app: &mut App, now: Instant, code: Status) {
    let last = app.status;
    app.on_event(
        now,
        &Event::StatusChange(StatusChange {
            code,
            last_code: last,
            connid: None,
        }),
    );
}

fn key(app: &mut App, now: Instant, code: KeyCode) -> Vec<Command> {
    app.on_key(now, KeyEvent::from(code))
}

fn char_key(app: &mut App, now: Instant, c: char) -> Vec<Command> {
    key(app, now, KeyCode::Char(c))
}

fn coming(caller: &str) -> Event {
    Event::CallComing(CallComing {
        connid: Some("conn-1".into()),
        caller: Some(caller.into()),
        callee: Some("02150000001".into()),
        contact_id: Some("job-1".into()),
        skillgroup_id: Some("sales@ccc-emulator".into()),
    })
}

#[test]
fn the_default_panel_has_the_guides_header_and_navigation() {
    let (mut app, now) = app(json!({}));
    assert_eq!(app.start(), vec![Command::Register]);
    status(&mut app, now, Status::Ready);
    let text = screen(&app, now + Duration::from_secs(75));
    assert!(text.contains("CCC softphone · Alice 8001"), "{text}");
    assert!(text.contains("● Ready 01:15"), "{text}");
    for action in [
        "[u] Only outbound off",
        "[p] Answer on mobile",
        "[b] Break",
        "[l] Offline",
        "[-=] Volume 100%",
    ] {
        assert!(text.contains(action), "{action} missing:\n{text}");
    }
    for item in [
        "Inbound",
        "Outbound",
        "Call log",
        "Transfer",
        "Conference",
        "Monitor",
        "My work",
        "Device check",
        "Access points",
    ] {
        assert!(text.contains(item), "{item} missing:\n{text}");
    }
    // The footer offers what table K allows at 3.
    assert!(text.contains("c dial"), "{text}");
    assert!(text.contains("b break"), "{text}");
    assert!(!text.contains("a answer"), "{text}");
}

#[test]
fn the_panel_is_c5_by_c6_in_cells() {
    let (app, now) = app(json!({"width": 320, "height": 400}));
    let text = screen(&app, now);
    let rows: Vec<&str> = text.lines().collect();
    // 320 / 5 = 64 columns, 400 / 16 = 25 rows: the border closes there.
    assert!(rows[0].starts_with('┌'));
    assert_eq!(rows[0].chars().nth(63), Some('┐'), "{text}");
    assert!(rows[24].starts_with('└'), "{text}");
    assert!(rows[25].trim().is_empty(), "{text}");
}

#[test]
fn c4_without_a_header_there_are_no_header_actions() {
    let (mut app, now) = app(json!({"header": false}));
    status(&mut app, now, Status::Ready);
    let text = screen(&app, now);
    assert!(!text.contains("[b] Break"), "{text}");
    assert!(!text.contains("Volume"), "{text}");
    assert!(char_key(&mut app, now, 'b').is_empty());
    assert!(app.prompt.is_none());
    let toast = app.toast(now).expect("the refusal is said");
    assert!(toast.text.contains("header"), "{}", toast.text);
    // Without the header's break, the footer does not offer it either.
    assert!(!screen(&app, now).contains("b break"));
}

#[test]
fn c22_shows_only_the_listed_actions() {
    let (mut app, now) = app(json!({"moreActionList": ["offline", "break"]}));
    status(&mut app, now, Status::Ready);
    let text = screen(&app, now);
    assert!(text.contains("[b] Break"), "{text}");
    assert!(text.contains("[l] Offline"), "{text}");
    assert!(!text.contains("Only outbound"), "{text}");
    assert!(!text.contains("Answer on mobile"), "{text}");
    assert!(!text.contains("Volume"), "{text}");
    assert!(char_key(&mut app, now, 'u').is_empty());
    assert!(char_key(&mut app, now, '=').is_empty());
    assert_eq!(char_key(&mut app, now, 'l'), vec![Command::LogOut]);
}

#[test]
fn c35_shows_only_the_listed_views_in_order() {
    let (mut app, now) = app(json!({"sideNavList": ["呼出", "通话记录"]}));
    let text = screen(&app, now);
    assert!(text.contains("Outbound"), "{text}");
    assert!(text.contains("Call log"), "{text}");
    assert!(text.contains("Access points"), "{text}");
    for absent in ["Inbound", "Transfer", "Conference", "Monitor", "My work"] {
        assert!(!text.contains(absent), "{absent} shown:\n{text}");
    }
    assert_eq!(app.nav, NavItem::Outbound);
    // Tab goes to the call log, which loads itself.
    assert_eq!(
        key(&mut app, now, KeyCode::Tab),
        vec![Command::LoadCallLog { page: 1 }]
    );
    assert_eq!(app.nav, NavItem::CallLog);
    // An incoming call cannot switch to a view the panel does not have.
    app.on_event(now, &coming("13800000009"));
    assert_eq!(app.nav, NavItem::CallLog);
}

#[test]
fn c7_a_hidden_panel_shows_one_line_and_v_shows_it() {
    let (mut app, now) = app(json!({"defaultVisible": false}));
    status(&mut app, now, Status::Ready);
    let text = screen(&app, now);
    assert!(
        text.contains("Softphone hidden (v shows it) · ready"),
        "{text}"
    );
    assert!(!text.contains("Inbound"), "{text}");
    // Hidden, the keys do nothing but show it.
    assert!(char_key(&mut app, now, 'c').is_empty());
    assert!(char_key(&mut app, now, 'v').is_empty());
    assert!(app.visible);
    assert!(screen(&app, now).contains("Inbound"));
}

#[test]
fn c38_minimises_unless_reduce_panel_is_off() {
    let (mut app, now) = app(json!({}));
    status(&mut app, now, Status::Ready);
    char_key(&mut app, now, 'z');
    assert!(app.minimised);
    let text = screen(&app, now);
    assert!(text.contains("● Ready 00:00 · z restores"), "{text}");
    assert!(!text.contains("Call log"), "{text}");
    app.on_event(now, &coming("13800000009"));
    status(&mut app, now, Status::Ringing);
    assert!(screen(&app, now).contains("call from 13800000009"));

    let (mut fixed, now) = self::app(json!({"reducePanel": false}));
    char_key(&mut fixed, now, 'z');
    assert!(!fixed.minimised);
    assert!(fixed.toast(now).unwrap().text.contains("reducePanel"));
}

#[test]
fn c8_c9_the_images_stand_in_while_offline_or_on_break() {
    let (mut app, now) = app(json!({
        "offlineImage": "https://cdn.example/offline.png",
        "breakImage": "https://cdn.example/break.png",
    }));
    let text = screen(&app, now);
    assert!(text.contains("[image]"), "{text}");
    assert!(text.contains("https://cdn.example/offline.png"), "{text}");
    status(&mut app, now, Status::Ready);
    assert!(!screen(&app, now).contains("[image]"));
    status(&mut app, now, Status::Break);
    let text = screen(&app, now);
    assert!(text.contains("https://cdn.example/break.png"), "{text}");
    assert!(text.contains("r: back to work"), "{text}");
}

#[test]
fn an_incoming_call_rings_the_bell_unless_c40() {
    let (mut app, now) = app(json!({}));
    status(&mut app, now, Status::Ready);
    key(&mut app, now, KeyCode::F(3));
    app.on_event(now, &coming("13800000009"));
    status(&mut app, now, Status::Ringing);
    assert!(app.take_bell());
    assert!(!app.take_bell(), "once");
    assert_eq!(app.nav, NavItem::Inbound, "the panel shows the call");
    let text = screen(&app, now + Duration::from_secs(4));
    assert!(text.contains("Incoming call from 13800000009"), "{text}");
    assert!(text.contains("Caller   13800000009"), "{text}");
    assert!(text.contains("Contact  job-1"), "{text}");
    assert!(text.contains("Ringing 00:04 (break in 26s)"), "{text}");
    assert!(text.contains("a answer"), "{text}");
    assert_eq!(key(&mut app, now, KeyCode::Enter), vec![Command::Answer]);

    let (mut quiet, now) = self::app(json!({"customizedNotification": true}));
    status(&mut quiet, now, Status::Ready);
    quiet.on_event(now, &coming("13800000009"));
    assert!(!quiet.take_bell());
    assert!(!screen(&quiet, now).contains("Incoming call from"));
}

#[test]
fn c21_errors_carry_code_api_and_request_id() {
    let mut notify = ErrorNotify::new("ReadyForService", ErrorCode::WrongState, "bad state");
    notify.request_id = Some("req-42".into());
    let event = Event::ErrorNotify(notify);

    let (mut plain, now) = app(json!({}));
    plain.on_event(now, &event);
    let text = plain.toast(now).unwrap().text.clone();
    assert!(!text.contains("req-42"), "{text}");
    assert!(!text.is_empty());

    let (mut exported, now) = app_with(
        json!({}),
        config().export_error_of_api(true).build().unwrap(),
    );
    exported.on_event(now, &event);
    let text = exported.toast(now).unwrap().text.clone();
    for part in [
        "ErrorCode 6008",
        "ApiName ReadyForService",
        "RequestId req-42",
        "bad state",
    ] {
        assert!(text.contains(part), "{part} missing: {text}");
    }
}

#[test]
fn c10_c11_the_timers_count_down() {
    let (mut app, now) = app_with(
        json!({}),
        config()
            .after_call_rule_seconds(15)
            .auto_answer_call_seconds(8)
            .build()
            .unwrap(),
    );
    status(&mut app, now, Status::AfterCallWork);
    let text = screen(&app, now + Duration::from_secs(3));
    assert!(
        text.contains("After-call work 00:03 (ready in 12s)"),
        "{text}"
    );
    status(&mut app, now, Status::Ringing);
    let text = screen(&app, now + Duration::from_secs(5));
    assert!(text.contains("(auto-answer 3s)"), "{text}");

    let (mut manual, now) = app_with(
        json!({}),
        config().after_call_rule_manual().build().unwrap(),
    );
    status(&mut manual, now, Status::AfterCallWork);
    assert!(screen(&manual, now).contains("After-call work 00:00 (r: ready)"));
}

#[test]
fn the_dial_pad_dials_with_the_chosen_caller_and_sends_dtmf_in_a_call() {
    let (mut app, now) = app(json!({}));
    status(&mut app, now, Status::Ready);
    for c in "1380000000".chars() {
        assert!(char_key(&mut app, now, c).is_empty());
    }
    assert_eq!(app.nav, NavItem::Outbound, "digits bring the dial pad");
    char_key(&mut app, now, '2');
    key(&mut app, now, KeyCode::Backspace);
    char_key(&mut app, now, '1');
    let text = screen(&app, now);
    assert!(text.contains("Number   13800000001"), "{text}");
    assert!(text.contains("Caller   ◂ default ▸"), "{text}");
    assert!(text.contains(" 7   8   9 "), "{text}");
    app.on_outcome(
        now,
        Outcome {
            command: Command::LoadCallers,
            result: Ok(Payload::Callers(vec!["02150000001".into()])),
        },
    );
    key(&mut app, now, KeyCode::Right);
    assert_eq!(app.caller(), "auto");
    key(&mut app, now, KeyCode::Right);
    assert_eq!(app.caller(), "02150000001");
    assert!(screen(&app, now).contains("◂ 02150000001 ▸"));
    key(&mut app, now, KeyCode::Right);
    assert_eq!(app.caller(), "", "round to the default");
    key(&mut app, now, KeyCode::Left);
    assert_eq!(
        key(&mut app, now, KeyCode::Enter),
        vec![Command::Call {
            callee: "13800000001".into(),
            caller: "02150000001".into(),
        }]
    );
    // In an outbound call the pad sends DTMF (M12 only at 10 and 11).
    app.on_event(
        now,
        &Event::CallDialing(ccc_workbench::event::CallDialing {
            connid: None,
            caller: Some("02150000001".into()),
            callee: Some("13800000001".into()),
            contact_id: Some("job-2".into()),
        }),
    );
    status(&mut app, now, Status::Dialing);
    assert_eq!(
        char_key(&mut app, now, '5'),
        Vec::new(),
        "not while dialing"
    );
    status(&mut app, now, Status::OutboundCall);
    assert_eq!(
        char_key(&mut app, now, '5'),
        vec![Command::Dtmf("5".into())]
    );
    let text = screen(&app, now);
    assert!(text.contains("DTMF     5"), "{text}");
    assert!(text.contains("Outbound call"), "{text}");
    assert!(text.contains("h hang up"), "{text}");
}

#[test]
fn hold_retrieve_break_and_mobile_answer_by_key() {
    let (mut app, now) = app(json!({}));
    status(&mut app, now, Status::InboundCall);
    assert_eq!(char_key(&mut app, now, 'o'), vec![Command::Hold]);
    status(&mut app, now, Status::Hold);
    assert_eq!(char_key(&mut app, now, 'o'), vec![Command::Retrieve]);
    assert!(screen(&app, now).contains("o retrieve"));

    status(&mut app, now, Status::Ready);
    assert!(char_key(&mut app, now, 'b').is_empty());
    assert_eq!(app.prompt, Some(Prompt::Break));
    assert!(screen(&app, now).contains("3 Lunch"));
    assert!(char_key(&mut app, now, '9').is_empty(), "no break 9");
    assert_eq!(
        char_key(&mut app, now, '3'),
        vec![Command::Break {
            id: 3,
            name: "Lunch".into()
        }]
    );
    assert!(app.prompt.is_none());

    assert!(char_key(&mut app, now, 'p').is_empty());
    for c in "13900008001".chars() {
        char_key(&mut app, now, c);
    }
    assert!(screen(&app, now).contains("13900008001▏"));
    let offline = key(&mut app, now, KeyCode::Enter);
    assert_eq!(
        offline,
        vec![Command::Offline {
            mobile: "13900008001".into()
        }]
    );
    app.on_outcome(
        now,
        Outcome {
            command: offline[0].clone(),
            result: Ok(Payload::Done),
        },
    );
    let text = screen(&app, now);
    assert!(text.contains("on mobile 13900008001"), "{text}");
    assert!(text.contains("[p] Answer here"), "{text}");
    assert_eq!(char_key(&mut app, now, 'p'), vec![Command::Online]);
}

#[test]
fn the_volume_applies_in_a_call_and_waits_for_one_otherwise() {
    let (mut app, now) = app(json!({}));
    status(&mut app, now, Status::Ready);
    assert!(char_key(&mut app, now, '-').is_empty());
    assert!(screen(&app, now).contains("Volume 90%"));
    status(&mut app, now, Status::InboundCall);
    assert_eq!(char_key(&mut app, now, '-'), vec![Command::Volume(0.8)]);
    // A new call gets the panel's volume when it is connected.
    let established = Event::CallEstablish(ccc_workbench::event::CallData {
        connid: None,
        caller: None,
        private_data: ccc_workbench::event::PrivateData {
            acid: None,
            adacc: None,
            dnis: None,
            data: Some("order=42".into()),
            skillgroupname: None,
        },
    });
    assert_eq!(app.on_event(now, &established), vec![Command::Volume(0.8)]);
}

#[test]
fn transfer_and_conference_take_the_field_or_fail_clearly() {
    let (mut app, now) = app(json!({}));
    status(&mut app, now, Status::InboundCall);
    app.call = None;
    key(&mut app, now, KeyCode::F(4));
    assert_eq!(app.nav, NavItem::Transfer);
    assert!(key(&mut app, now, KeyCode::Enter).is_empty());
    assert!(app.toast(now).unwrap().text.contains("Type a number"));
    for c in "8002".chars() {
        char_key(&mut app, now, c);
    }
    assert_eq!(
        key(&mut app, now, KeyCode::Enter),
        vec![Command::Transfer {
            target: "8002".into(),
            skill_group: None,
        }]
    );
    assert_eq!(
        char_key(&mut app, now, 'k'),
        vec![Command::Consult {
            target: "8002".into()
        }]
    );
    assert_eq!(char_key(&mut app, now, 'f'), vec![Command::FinishTransfer]);
    assert_eq!(char_key(&mut app, now, 'g'), vec![Command::CancelConsult]);
    assert_eq!(char_key(&mut app, now, 'j'), vec![Command::Conference]);
    assert_eq!(
        char_key(&mut app, now, 'x'),
        vec![Command::DropThird {
            party: "8002".into()
        }]
    );
}

#[test]
fn failures_are_shown_and_loading_views_say_so() {
    let (mut app, now) = app(json!({}));
    key(&mut app, now, KeyCode::F(6));
    assert_eq!(app.nav, NavItem::Monitor);
    assert!(screen(&app, now).contains("Loading the agent states"));
    app.on_outcome(
        now,
        Outcome {
            command: Command::LoadStates,
            result: Err(ccc_softphone::command::Failure {
                message: "no permission".into(),
                notify: None,
            }),
        },
    );
    let text = screen(&app, now);
    assert!(text.contains("Could not load the agent states"), "{text}");
    // The footer says it too.
    assert_eq!(text.matches("permission").count(), 2, "{text}");
}

#[test]
fn c39_off_there_are_no_access_points_to_switch() {
    let (mut app, now) = app_with(
        json!({}),
        config().enable_switch_adapter(false).build().unwrap(),
    );
    let commands = key(&mut app, now, KeyCode::F(9));
    assert_eq!(app.nav, NavItem::AccessPoints);
    assert!(commands.is_empty(), "nothing is timed");
    assert!(screen(&app, now).contains("isEnableSwitchAdapter"));
    assert!(key(&mut app, now, KeyCode::Enter).is_empty());
}

#[test]
fn help_and_quit() {
    let (mut app, now) = app(json!({}));
    char_key(&mut app, now, '?');
    let text = screen(&app, now);
    assert!(text.contains(" Keys "), "{text}");
    assert!(text.contains("i a customer calls in"), "{text}");
    key(&mut app, now, KeyCode::Esc);
    assert!(app.prompt.is_none());
    assert_eq!(char_key(&mut app, now, 'i').len(), 1);
    char_key(&mut app, now, 'q');
    assert!(app.quit);
}

#[test]
fn a_dial_that_ends_unanswered_says_so_on_the_pad() {
    let (mut app, now) = app(json!({}));
    status(&mut app, now, Status::Ready);
    key(&mut app, now, KeyCode::F(2));
    app.on_event(
        now,
        &Event::CallDialing(ccc_workbench::event::CallDialing {
            connid: None,
            caller: Some("02150000001".into()),
            callee: Some("13800000003".into()),
            contact_id: Some("job-3".into()),
        }),
    );
    status(&mut app, now, Status::Dialing);
    assert!(screen(&app, now + Duration::from_secs(2)).contains("Dialing 00:02"));
    app.on_event(
        now,
        &Event::HangUp {
            kind: ccc_workbench::event::HangUpKind::Dialing,
        },
    );
    status(&mut app, now, Status::AfterCallWork);
    let text = screen(&app, now);
    assert!(text.contains("To       13800000003"), "{text}");
    assert!(text.contains("Ended (dialing)"), "{text}");
    assert!(text.contains("Enter/c dial"), "{text}");
}

#[test]
fn without_access_points_calls_connect_directly() {
    let (mut app, now) = app(json!({}));
    assert_eq!(
        key(&mut app, now, KeyCode::F(9)),
        vec![Command::TestAccessPoints]
    );
    assert!(screen(&app, now).contains("Loading the access points"));
    app.on_outcome(
        now,
        Outcome {
            command: Command::TestAccessPoints,
            result: Ok(Payload::AccessPoints(Vec::new())),
        },
    );
    let text = screen(&app, now);
    assert!(text.contains("▸default*"), "{text}");
    assert!(text.contains("calls connect directly"), "{text}");
    // default is the one row: Enter switches to it (M34 takes `default`).
    assert_eq!(
        key(&mut app, now, KeyCode::Enter),
        vec![Command::SwitchAccessPoint("default".into())]
    );
}

#[test]
fn monitor_the_typed_extension_and_stop_with_h() {
    let (mut app, now) = app(json!({}));
    status(&mut app, now, Status::Ready);
    key(&mut app, now, KeyCode::F(6));
    for c in "8002".chars() {
        char_key(&mut app, now, c);
    }
    assert_eq!(
        key(&mut app, now, KeyCode::Enter),
        vec![Command::Monitor {
            extension: "8002".into()
        }]
    );
    status(&mut app, now, Status::Monitoring);
    assert!(screen(&app, now).contains("● Monitoring"));
    assert_eq!(char_key(&mut app, now, 'h'), vec![Command::HangUp]);
}

#[test]
fn any_terminal_size_draws_without_panicking() {
    let (mut app, now) = app(json!({"width": 100_000, "height": 100_000}));
    status(&mut app, now, Status::Ready);
    app.on_event(now, &coming("13800000009"));
    for (w, h) in [(1, 1), (2, 2), (10, 3), (20, 5), (45, 12), (300, 120)] {
        for setup in 0..4 {
            let mut a = app.clone();
            match setup {
                1 => a.prompt = Some(Prompt::Help),
                2 => a.minimised = true,
                3 => a.visible = false,
                _ => {}
            }
            let text = ccc_softphone::view::render_text(&a, now, w, h);
            assert_eq!(text.lines().count(), usize::from(h));
        }
    }
}
