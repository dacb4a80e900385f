//! `softphone`: an interactive terminal softphone on the [`ccc_workbench::Workbench`],
//! which looks and works like the panel of the browser workbench SDK 1.1.0 (the
//! guide's `new WorkbenchSdk({dom, ...})`).
//!
//! # Running it
//!
//! ```text
//! cargo run -p ccc-softphone                          # the embedded emulator
//! cargo run -p ccc-softphone -- --config agent.json   # a real deployment
//! cargo run -p ccc-softphone --features device        # with the microphone and speaker
//! ```
//!
//! Without `--config` it starts the embedded emulator (its default scenario) and signs
//! in as its first agent (alice, extension 8001); `i` then has a simulated customer
//! call her hotline. With `--config FILE` it signs in to the deployment the file
//! describes: the guide's options as JSON, in the format of `ccc agent --config`
//! ([`setup`] lists the keys); `"emulator": true` in the file applies its options to
//! the embedded emulator instead, for trying the UI options out.
//!
//! The default build needs no system library: calls use the workbench's virtual
//! audio (silence out, nothing heard). `--features device` opens the default
//! microphone and speaker (cpal; ALSA's headers on Linux) and lets the device check
//! listen to them ([`audio`]).
//!
//! # The panel
//!
//! At the top the status (table S) with its timer: time in the status, after-call
//! work counting down to ready (C10), ringing counting down to auto-answer (C11);
//! muted, outbound only, answering on the mobile. Under it the header's actions
//! (C4 `header`, C22 `moreActionList`): only outbound, answer on mobile, break,
//! offline, volume. On the left the side navigation (C35 `sideNavList`): inbound,
//! outbound (the dial pad), call log, transfer, conference, monitor, my work, device
//! check, and the access points (M33, M34). At the bottom what the status allows and
//! the last message (C21 `exportErrorOfApi` adds code, API and request id to errors).
//!
//! The other UI options: C5/C6 (`width`, `height`, pixels; 5 x 16 pixels a cell, so
//! the guide's 280 x 552 is 56 x 34 cells), C7 `defaultVisible` (hidden, `v` shows it:
//! the panel's M0 `changeVisible`), C8/C9 (`offlineImage`, `breakImage`: a terminal
//! draws no pictures, so the image's address stands in for the view while signed out
//! or on break), C38 `reducePanel` (`z` minimises to one line, unless it is false),
//! C40 `customizedNotification` (no terminal bell and pop-up line on an incoming
//! call), C39 `isEnableSwitchAdapter` (false: no access points to switch). M1
//! `reRender` has nothing to do in a terminal: every frame is drawn anew.
//!
//! # Keys
//!
//! | key | does |
//! |---|---|
//! | `0`-`9` `*` `#` `+` | the dial pad; in an outbound call on the Outbound view, DTMF (M12) |
//! | `Enter` | the view's action: answer, dial, call back, transfer, consult, listen, run the check, switch access point |
//! | `Backspace`, `Esc` | delete a digit; clear the field (and close a prompt) |
//! | `Tab`, `Shift-Tab`, `F1`-`F9` | the side navigation |
//! | `Up`, `Down`, `PageUp`, `PageDown` | select in a list; page the call log |
//! | `Left`, `Right` | the calling number: default, `auto`, or one of the agent's |
//! | `a` `h` `o` `m` | answer (M8), hang up (M7), hold / retrieve (M13, M14), mute (M31) |
//! | `r` `R` `c` | ready (M5), redial, dial the field (M11) |
//! | `u` `p` `b` `l` `-` `=` | the header: only outbound (M29), answer on mobile (M15, M16), break (M6), offline / online (M4, M3), volume (M30) |
//! | `t` `k` `f` `g` | blind transfer (M23), consult (M24), finish the transfer (M25), cancel it (M26) |
//! | `e` `j` `x` | call an agent (M27 `agentToAgent`), join the conference (M27), drop the third party (M28) |
//! | `s` `S` `M` `d` | voice survey (M17), SMS survey (M21), missed-call SMS (M22), recordings (M18) |
//! | `Ctrl-R` `!` | reload the view; reset a stuck status (M35) |
//! | `i` | the embedded emulator: a customer calls in |
//! | `z` `v` `?` `q` | minimise, hide / show, help, quit (`Ctrl-C` too) |
//!
//! # Shape
//!
//! - [`app`]: the panel's state, a plain struct driven by events, keys and outcomes
//!   (no terminal, no clock, no network);
//! - [`keys`]: key presses to intents; [`view`]: drawing the state;
//! - [`bridge`]: commands carried out on the workbench, outcomes sent back;
//! - [`command`]: the words between them; [`options`]: the guide's UI options;
//! - [`setup`]: the embedded emulator or a deployment; [`audio`]: the calls' audio;
//! - [`session`]: all of it wired together, for the terminal loop and the tests.

pub mod app;
pub mod audio;
pub mod bridge;
pub mod command;
pub mod keys;
pub mod options;
pub mod session;
pub mod setup;
pub mod view;

pub use app::App;
pub use session::Softphone;
pub use setup::Setup;
