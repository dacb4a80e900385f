//! The keyboard: each key press becomes one [`Intent`], the same whatever the panel
//! shows; what an intent does in the current view and status is the app state's
//! business ([`crate::app::App::on_intent`]).
//!
//! | key | intent |
//! |---|---|
//! | `0`-`9` `*` `#` `+` | the dial pad: into the number field, or DTMF in a call (outbound view) |
//! | `Backspace` / `Esc` | delete a digit / clear the field, close a prompt |
//! | `Enter` | the view's main action (dial, transfer, consult, monitor, call back, run, switch) |
//! | `Tab` / `Shift-Tab`, `F1`-`F9` | next / previous side-navigation item, or item N |
//! | `Up` / `Down`, `PageUp` / `PageDown` | select in a list, page the call log |
//! | `Left` / `Right` | the calling number (default, auto, each of the agent's) |
//! | `a` `h` `o` `m` | answer, hang up, hold or retrieve, mute |
//! | `r` `R` | ready, redial |
//! | `c` | dial the number field |
//! | `u` `p` `b` `l` `-` `=` | header (C22): only outbound, answer on mobile, break, offline, volume down/up |
//! | `t` `k` `f` `g` | transfer (blind), consult, finish the transfer, cancel the consultation |
//! | `e` `j` `x` | call an agent, join the conference, drop the third party |
//! | `s` `S` `M` | voice survey, SMS survey, missed-call SMS |
//! | `d` | the selected call's recordings |
//! | `Ctrl-R` | reload the view (run the check, time the access points) |
//! | `!` | reset a stuck status |
//! | `i` | the embedded emulator: a customer calls in |
//! | `z` `v` | minimise (C38), hide or show the panel (M0) |
//! | `?` | help; `q` or `Ctrl-C` quits |

use ratatui::crossterm::event::{KeyCode, KeyEvent, KeyEventKind, KeyModifiers};

/// What a key asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Intent {
    /// A dial-pad key: `0`-`9`, `*`, `#`, `+`.
    Digit(char),
    /// Delete the last digit.
    Backspace,
    /// Clear the field, close a prompt.
    Escape,
    /// The view's main action.
    Confirm,
    /// The next side-navigation item.
    NextView,
    /// The previous one.
    PrevView,
    /// Side-navigation item N (from 0).
    View(usize),
    /// Up a list.
    Up,
    /// Down a list.
    Down,
    /// The previous page.
    PageUp,
    /// The next page.
    PageDown,
    /// The previous calling number.
    PrevCaller,
    /// The next calling number.
    NextCaller,
    /// M8.
    Answer,
    /// M7.
    HangUp,
    /// M13 or M14, whichever fits.
    HoldOrRetrieve,
    /// M31.
    Mute,
    /// M5.
    Ready,
    /// K5's redial.
    Redial,
    /// M11 with the number field.
    Dial,
    /// Header: M29.
    OnlyOutbound,
    /// Header: M15 / M16.
    MobileAnswer,
    /// Header: M6.
    Break,
    /// Header: M4 / M3 (M2 when unregistered).
    Offline,
    /// Header: M30 down.
    VolumeDown,
    /// Header: M30 up.
    VolumeUp,
    /// M23.
    Transfer,
    /// M24.
    Consult,
    /// M25.
    FinishTransfer,
    /// M26.
    CancelConsult,
    /// M27 `agentToAgent`.
    CallAgent,
    /// M27 `conferenceFinished`.
    JoinConference,
    /// M28.
    DropThird,
    /// M17.
    Survey,
    /// M21.
    SmsSurvey,
    /// M22.
    SmsMissedCall,
    /// M18.
    Recordings,
    /// Reload the view.
    Refresh,
    /// M35.
    Reset,
    /// The embedded emulator: a customer calls in.
    CustomerCallsIn,
    /// C38: minimise or restore.
    Minimise,
    /// M0: hide or show.
    ToggleVisible,
    /// The help.
    Help,
    /// Quit.
    Quit,
}

/// The intent of a key press; `None` for keys without one (and key releases).
pub fn intent(key: KeyEvent) -> Option<Intent> {
    use Intent as I;
    if key.kind == KeyEventKind::Release {
        return None;
    }
    if key.modifiers.contains(KeyModifiers::CONTROL) {
        return match key.code {
            KeyCode::Char('c' | 'q') => Some(I::Quit),
            KeyCode::Char('r') => Some(I::Refresh),
            _ => None,
        };
    }
    Some(match key.code {
        KeyCode::Char(c @ ('0'..='9' | '*' | '#' | '+')) => I::Digit(c),
        KeyCode::Backspace => I::Backspace,
        KeyCode::Esc | KeyCode::Delete => I::Escape,
        KeyCode::Enter => I::Confirm,
        KeyCode::Tab => I::NextView,
        KeyCode::BackTab => I::PrevView,
        KeyCode::F(n @ 1..=9) => I::View(usize::from(n - 1)),
        KeyCode::Up => I::Up,
        KeyCode::Down => I::Down,
        KeyCode::PageUp => I::PageUp,
        KeyCode::PageDown => I::PageDown,
        KeyCode::Left => I::PrevCaller,
        KeyCode::Right => I::NextCaller,
        KeyCode::Char(c) => letter(c)?,
        _ => return None,
    })
}

fn letter(c: char) -> Option<Intent> {
    use Intent as I;
    Some(match c {
        'a' => I::Answer,
        'h' => I::HangUp,
        'o' => I::HoldOrRetrieve,
        'm' => I::Mute,
        'r' => I::Ready,
        'R' => I::Redial,
        'c' => I::Dial,
        'u' => I::OnlyOutbound,
        'p' => I::MobileAnswer,
        'b' => I::Break,
        'l' => I::Offline,
        '-' => I::VolumeDown,
        '=' => I::VolumeUp,
        't' => I::Transfer,
        'k' => I::Consult,
        'f' => I::FinishTransfer,
        'g' => I::CancelConsult,
        'e' => I::CallAgent,
        'j' => I::JoinConference,
        'x' => I::DropThird,
        's' => I::Survey,
        'S' => I::SmsSurvey,
        'M' => I::SmsMissedCall,
        'd' => I::Recordings,
        '!' => I::Reset,
        'i' => I::CustomerCallsIn,
        'z' => I::Minimise,
        'v' => I::ToggleVisible,
        '?' => I::Help,
        'q' => I::Quit,
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(code: KeyCode) -> KeyEvent {
        KeyEvent::from(code)
    }

    #[test]
    fn the_pad_and_the_letters() {
        assert_eq!(intent(key(KeyCode::Char('7'))), Some(Intent::Digit('7')));
        assert_eq!(intent(key(KeyCode::Char('#'))), Some(Intent::Digit('#')));
        assert_eq!(intent(key(KeyCode::Char('a'))), Some(Intent::Answer));
        assert_eq!(intent(key(KeyCode::Char('R'))), Some(Intent::Redial));
        assert_eq!(intent(key(KeyCode::Char('Q'))), None);
        assert_eq!(intent(key(KeyCode::F(3))), Some(Intent::View(2)));
        assert_eq!(intent(key(KeyCode::F(9))), Some(Intent::View(8)));
        assert_eq!(intent(key(KeyCode::Char('v'))), Some(Intent::ToggleVisible));
        let ctrl_r = KeyEvent::new(KeyCode::Char('r'), KeyModifiers::CONTROL);
        assert_eq!(intent(ctrl_r), Some(Intent::Refresh));
        assert_eq!(intent(key(KeyCode::F(11))), None);
    }

    #[test]
    fn control_c_quits_and_releases_do_nothing() {
        let ctrl_c = KeyEvent::new(KeyCode::Char('c'), KeyModifiers::CONTROL);
        assert_eq!(intent(ctrl_c), Some(Intent::Quit));
        let ctrl_a = KeyEvent::new(KeyCode::Char('a'), KeyModifiers::CONTROL);
        assert_eq!(intent(ctrl_a), None);
        let mut release = key(KeyCode::Char('a'));
        release.kind = KeyEventKind::Release;
        assert_eq!(intent(release), None);
    }
}
