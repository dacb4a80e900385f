//! The sans-IO core of device selection: which device to open, when to give one up and
//! which to try next, and when to look again. Time enters as `now`; the shell executes
//! the [`Action`]s and feeds back what happened.

use std::collections::VecDeque;
use std::time::{Duration, Instant};

use super::{DeviceEvent, DeviceInfo, DeviceOptions, DevicePreference, Direction, StreamFormat};

/// What the shell must do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Action {
    /// Read the device list; answer with [`Failover::handle_devices`] or
    /// [`Failover::handle_scan_failed`].
    Scan,
    /// Open this device; answer with [`Failover::handle_opened`] or
    /// [`Failover::handle_open_failed`].
    Open(DeviceInfo),
    /// Close the stream in use.
    Close,
}

/// Device selection for one microphone or speaker.
#[derive(Debug)]
pub(crate) struct Failover {
    direction: Direction,
    preference: DevicePreference,
    rescan_every: Duration,
    retry_after: Duration,
    return_to_preferred: bool,
    devices: Vec<DeviceInfo>,
    current: Option<DeviceInfo>,
    opening: Option<DeviceInfo>,
    /// Devices not to try before the instant (lost, or failed to open).
    benched: Vec<(String, Instant)>,
    /// How many times each listed device was lost or failed in a row: its bench time
    /// doubles each time (a driver that keeps hanging is not retried every few
    /// seconds). Forgotten when the device leaves the list (unplugged and back is a
    /// fresh start).
    strikes: Vec<(String, u32)>,
    /// Why each device failed since the last success, for [`Failover::why_none`].
    failures: Vec<(String, String)>,
    next_scan: Option<Instant>,
    no_device_told: bool,
    actions: VecDeque<Action>,
    events: VecDeque<DeviceEvent>,
}

impl Failover {
    pub(crate) fn new(direction: Direction, options: &DeviceOptions) -> Self {
        Self {
            direction,
            preference: options.preference.clone(),
            rescan_every: options.rescan_every.max(Duration::from_millis(10)),
            retry_after: options.retry_after,
            return_to_preferred: options.return_to_preferred,
            devices: Vec::new(),
            current: None,
            opening: None,
            benched: Vec::new(),
            strikes: Vec::new(),
            failures: Vec::new(),
            next_scan: None,
            no_device_told: false,
            actions: VecDeque::from([Action::Scan]),
            events: VecDeque::new(),
        }
    }

    /// The device in use.
    pub(crate) fn current(&self) -> Option<&DeviceInfo> {
        self.current.as_ref()
    }

    /// Why no device is in use: what was listed and how each failed.
    pub(crate) fn why_none(&self) -> String {
        if self.devices.is_empty() {
            return format!("no {} device is listed", self.direction);
        }
        if self.failures.is_empty() {
            return "every listed device failed recently".into();
        }
        self.failures
            .iter()
            .map(|(name, reason)| format!("{name}: {reason}"))
            .collect::<Vec<_>>()
            .join("; ")
    }

    /// The list of a scan.
    pub(crate) fn handle_devices(&mut self, now: Instant, devices: Vec<DeviceInfo>) {
        self.devices = devices
            .into_iter()
            .filter(|d| d.direction == self.direction)
            .collect();
        self.next_scan = Some(crate::time::after(now, self.rescan_every));
        self.benched.retain(|(_, until)| *until > now);
        let listed = &self.devices;
        self.strikes
            .retain(|(id, _)| listed.iter().any(|d| d.id == *id));
        self.benched
            .retain(|(id, _)| listed.iter().any(|d| d.id == *id));
        if self.opening.is_some() {
            return;
        }
        let Some(current) = self.current.clone() else {
            self.open_next(now);
            return;
        };
        if !self.devices.iter().any(|d| d.id == current.id) {
            self.lose(now, "it is no longer listed".into());
            return;
        }
        if !self.return_to_preferred {
            return;
        }
        let in_list = self.devices.iter().find(|d| d.id == current.id);
        let current_rank = in_list.map_or(usize::MAX, |d| self.rank(d));
        if let Some(better) = self.pick()
            && better.id != current.id
            && self.rank(&better) < current_rank
        {
            self.current = None;
            self.actions.push_back(Action::Close);
            self.opening = Some(better.clone());
            self.actions.push_back(Action::Open(better));
        }
    }

    /// The list could not be read: keep what is in use, look again later.
    pub(crate) fn handle_scan_failed(&mut self, now: Instant, reason: String) {
        self.next_scan = Some(crate::time::after(now, self.rescan_every));
        if self.current.is_none() && self.opening.is_none() {
            self.failures.push(("the device list".into(), reason));
            self.devices.clear();
            self.tell_no_device();
        }
    }

    /// The device of the last [`Action::Open`] is open.
    pub(crate) fn handle_opened(&mut self, format: StreamFormat) {
        let Some(device) = self.opening.take() else {
            return;
        };
        self.failures.clear();
        self.no_device_told = false;
        self.current = Some(device.clone());
        self.events
            .push_back(DeviceEvent::Opened { device, format });
    }

    /// The device of the last [`Action::Open`] did not open.
    pub(crate) fn handle_open_failed(&mut self, now: Instant, reason: String) {
        let Some(device) = self.opening.take() else {
            return;
        };
        self.bench(now, &device.id);
        // The latest few, per device: enough to explain, bounded however long it fails.
        self.failures.retain(|(name, _)| *name != device.name);
        if self.failures.len() >= 8 {
            self.failures.remove(0);
        }
        self.failures.push((device.name.clone(), reason.clone()));
        self.events
            .push_back(DeviceEvent::OpenFailed { device, reason });
        self.open_next(now);
    }

    /// The stream in use broke (the backend said so, or it stalled).
    pub(crate) fn handle_lost(&mut self, now: Instant, reason: String) {
        if self.current.is_some() {
            self.lose(now, reason);
        }
    }

    /// When [`Failover::handle_timeout`] is due.
    pub(crate) fn poll_timeout(&self) -> Option<Instant> {
        self.next_scan
    }

    /// Time passed.
    pub(crate) fn handle_timeout(&mut self, now: Instant) {
        if self.next_scan.is_some_and(|at| at <= now) && self.opening.is_none() {
            self.next_scan = None;
            self.actions.push_back(Action::Scan);
        }
    }

    /// The next thing to do.
    pub(crate) fn poll_action(&mut self) -> Option<Action> {
        self.actions.pop_front()
    }

    /// The next thing to tell the program.
    pub(crate) fn poll_event(&mut self) -> Option<DeviceEvent> {
        self.events.pop_front()
    }

    fn lose(&mut self, now: Instant, reason: String) {
        let Some(device) = self.current.take() else {
            return;
        };
        self.actions.push_back(Action::Close);
        self.bench(now, &device.id);
        self.devices.retain(|d| d.id != device.id);
        self.events.push_back(DeviceEvent::Lost { device, reason });
        // Read the list again before choosing: the loss may have changed it (a headset
        // unplugged takes its microphone and its speaker, the default moves).
        self.actions.push_back(Action::Scan);
    }

    /// Not to be tried for `retry_after`, doubled for each strike in a row (at most
    /// 64 times).
    fn bench(&mut self, now: Instant, id: &str) {
        let strikes = match self.strikes.iter_mut().find(|(i, _)| i == id) {
            Some((_, n)) => {
                *n = n.saturating_add(1);
                *n
            }
            None => {
                self.strikes.push((id.to_owned(), 1));
                1
            }
        };
        let factor = 1u32 << (strikes - 1).min(6);
        self.benched.retain(|(i, _)| i != id);
        self.benched.push((
            id.to_owned(),
            crate::time::after(now, self.retry_after.saturating_mul(factor)),
        ));
    }

    fn open_next(&mut self, _now: Instant) {
        match self.pick() {
            Some(device) => {
                self.opening = Some(device.clone());
                self.actions.push_back(Action::Open(device));
            }
            None => self.tell_no_device(),
        }
    }

    fn tell_no_device(&mut self) {
        if !self.no_device_told {
            self.no_device_told = true;
            self.events.push_back(DeviceEvent::NoDevice);
        }
    }

    /// The best device of the list that is not benched.
    fn pick(&self) -> Option<DeviceInfo> {
        self.devices
            .iter()
            .filter(|d| !self.benched.iter().any(|(id, _)| *id == d.id))
            .min_by_key(|d| self.rank(d))
            .cloned()
    }

    /// 0 the asked-for device (by id or exact name), 1 a name containing the asked-for
    /// one, 2 the system default, 3 any other. `min_by_key` keeps the first of equals,
    /// so ties go by the system's order.
    fn rank(&self, device: &DeviceInfo) -> usize {
        let asked = match &self.preference {
            DevicePreference::SystemDefault => None,
            DevicePreference::Id(id) => (device.id == *id).then_some(0),
            DevicePreference::Name(name) => {
                let (have, want) = (device.name.to_lowercase(), name.to_lowercase());
                if have == want {
                    Some(0)
                } else if !want.is_empty() && have.contains(&want) {
                    Some(1)
                } else {
                    None
                }
            }
        };
        asked.unwrap_or(if device.is_default { 2 } else { 3 })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const FORMAT: StreamFormat = StreamFormat {
        rate: 48_000,
        channels: 1,
    };

    fn device(id: &str, is_default: bool) -> DeviceInfo {
        DeviceInfo {
            id: id.into(),
            name: format!("{id} microphone"),
            direction: Direction::Capture,
            is_default,
        }
    }

    fn options(preference: DevicePreference) -> DeviceOptions {
        DeviceOptions {
            preference,
            rescan_every: Duration::from_secs(2),
            retry_after: Duration::from_secs(3),
            ..DeviceOptions::default()
        }
    }

    /// Drains the actions, answering scans with `list` and opens with `open`.
    fn drive(
        f: &mut Failover,
        now: Instant,
        list: &[DeviceInfo],
        open: impl Fn(&DeviceInfo) -> Result<(), String>,
    ) -> Vec<Action> {
        let mut seen = Vec::new();
        while let Some(action) = f.poll_action() {
            seen.push(action.clone());
            match action {
                Action::Scan => f.handle_devices(now, list.to_vec()),
                Action::Open(d) => match open(&d) {
                    Ok(()) => f.handle_opened(FORMAT),
                    Err(e) => f.handle_open_failed(now, e),
                },
                Action::Close => {}
            }
        }
        seen
    }

    fn events(f: &mut Failover) -> Vec<DeviceEvent> {
        std::iter::from_fn(|| f.poll_event()).collect()
    }

    #[test]
    fn waits_of_any_length_do_not_overflow() {
        let forever = DeviceOptions {
            rescan_every: Duration::MAX,
            retry_after: Duration::MAX,
            ..DeviceOptions::default()
        };
        let mut f = Failover::new(Direction::Capture, &forever);
        let t = Instant::now();
        drive(&mut f, t, &[device("a", true)], |_| Err("busy".into()));
        f.handle_scan_failed(t, "no list".into());
        f.handle_timeout(t);
        assert!(f.poll_timeout().is_some_and(|at| at > t));
    }

    #[test]
    fn the_preference_decides_then_the_default_then_the_order() {
        let list = [
            device("usb", false),
            device("built-in", true),
            device("hdmi", false),
        ];
        let t = Instant::now();
        for (preference, expected) in [
            (DevicePreference::SystemDefault, "built-in"),
            (DevicePreference::Id("hdmi".into()), "hdmi"),
            (DevicePreference::Id("gone".into()), "built-in"),
            (DevicePreference::Name("USB Microphone".into()), "usb"),
            (DevicePreference::Name("hdm".into()), "hdmi"),
            (DevicePreference::Name(String::new()), "built-in"),
        ] {
            let mut f = Failover::new(Direction::Capture, &options(preference.clone()));
            drive(&mut f, t, &list, |_| Ok(()));
            assert_eq!(
                f.current().map(|d| d.id.as_str()),
                Some(expected),
                "{preference:?}"
            );
        }
        // No default and nothing asked for: the first listed.
        let mut f = Failover::new(
            Direction::Capture,
            &options(DevicePreference::SystemDefault),
        );
        drive(&mut f, t, &[device("a", false), device("b", false)], |_| {
            Ok(())
        });
        assert_eq!(f.current().unwrap().id, "a");
        // Devices of the other direction are never chosen.
        let mut speaker = device("speaker", true);
        speaker.direction = Direction::Playback;
        let mut f = Failover::new(
            Direction::Capture,
            &options(DevicePreference::SystemDefault),
        );
        drive(&mut f, t, &[speaker], |_| Ok(()));
        assert!(f.current().is_none());
        assert_eq!(events(&mut f), [DeviceEvent::NoDevice]);
    }

    #[test]
    fn an_unplugged_device_gives_way_to_the_next_and_comes_back() {
        let t0 = Instant::now();
        let headset = device("headset", false);
        let builtin = device("built-in", true);
        let mut f = Failover::new(
            Direction::Capture,
            &options(DevicePreference::Id("headset".into())),
        );
        drive(&mut f, t0, &[builtin.clone(), headset.clone()], |_| Ok(()));
        assert_eq!(f.current(), Some(&headset));
        assert_eq!(
            events(&mut f),
            [DeviceEvent::Opened {
                device: headset.clone(),
                format: FORMAT
            }]
        );

        // Unplugged: the backend reports it; the next scan no longer lists it.
        let t1 = t0 + Duration::from_millis(500);
        f.handle_lost(t1, "device not available".into());
        let actions = drive(&mut f, t1, std::slice::from_ref(&builtin), |_| Ok(()));
        assert_eq!(
            actions,
            [Action::Close, Action::Scan, Action::Open(builtin.clone())]
        );
        assert_eq!(
            events(&mut f),
            [
                DeviceEvent::Lost {
                    device: headset.clone(),
                    reason: "device not available".into()
                },
                DeviceEvent::Opened {
                    device: builtin.clone(),
                    format: FORMAT
                }
            ]
        );

        // Plugged in again: taken back at the next scan (it left the list, so its
        // failure is forgotten).
        let list = [builtin.clone(), headset.clone()];
        let t2 = t1 + Duration::from_secs(2);
        assert_eq!(f.poll_timeout(), Some(t2));
        f.handle_timeout(t2);
        let actions = drive(&mut f, t2, &list, |_| Ok(()));
        assert_eq!(
            actions,
            [Action::Scan, Action::Close, Action::Open(headset.clone())]
        );
        assert_eq!(f.current(), Some(&headset));

        // Without return_to_preferred it stays where it is.
        let mut stay = options(DevicePreference::Id("headset".into()));
        stay.return_to_preferred = false;
        let mut f = Failover::new(Direction::Capture, &stay);
        drive(&mut f, t0, std::slice::from_ref(&builtin), |_| Ok(()));
        f.handle_timeout(t0 + Duration::from_secs(10));
        drive(&mut f, t0 + Duration::from_secs(10), &list, |_| Ok(()));
        assert_eq!(f.current(), Some(&builtin));
    }

    #[test]
    fn a_device_that_vanishes_from_the_list_is_lost_too() {
        let t0 = Instant::now();
        let (a, b) = (device("a", true), device("b", false));
        let mut f = Failover::new(
            Direction::Capture,
            &options(DevicePreference::SystemDefault),
        );
        drive(&mut f, t0, &[a.clone(), b.clone()], |_| Ok(()));
        events(&mut f);
        let t1 = t0 + Duration::from_secs(2);
        f.handle_timeout(t1);
        drive(&mut f, t1, std::slice::from_ref(&b), |_| Ok(()));
        assert_eq!(f.current(), Some(&b));
        let seen = events(&mut f);
        assert!(
            matches!(&seen[0], DeviceEvent::Lost { device, reason } if *device == a && reason.contains("no longer listed")),
            "{seen:?}"
        );
    }

    #[test]
    fn failures_to_open_move_on_and_nothing_left_is_said_once() {
        let t0 = Instant::now();
        let list = [device("a", true), device("b", false), device("c", false)];
        let mut f = Failover::new(
            Direction::Capture,
            &options(DevicePreference::SystemDefault),
        );
        drive(&mut f, t0, &list, |d| {
            if d.id == "c" {
                Ok(())
            } else {
                Err("busy".into())
            }
        });
        assert_eq!(f.current().unwrap().id, "c");
        let seen = events(&mut f);
        assert_eq!(seen.len(), 3, "{seen:?}");
        assert!(matches!(&seen[0], DeviceEvent::OpenFailed { device, .. } if device.id == "a"));

        // Every device fails: one NoDevice, silence, and a new try at every scan once
        // the retry delay is over.
        let mut f = Failover::new(
            Direction::Capture,
            &options(DevicePreference::SystemDefault),
        );
        drive(&mut f, t0, &list, |_| Err("permission denied".into()));
        assert!(f.current().is_none());
        let seen = events(&mut f);
        assert_eq!(seen.last(), Some(&DeviceEvent::NoDevice));
        assert!(
            f.why_none().contains("a microphone: permission denied"),
            "{}",
            f.why_none()
        );
        let t1 = t0 + Duration::from_secs(2);
        f.handle_timeout(t1);
        let actions = drive(&mut f, t1, &list, |_| Err("permission denied".into()));
        assert_eq!(actions, [Action::Scan], "benched until 3 s");
        assert!(events(&mut f).is_empty(), "NoDevice is said once");
        let t2 = t0 + Duration::from_secs(4);
        f.handle_timeout(t2);
        let actions = drive(&mut f, t2, &list, |d| {
            if d.id == "b" {
                Ok(())
            } else {
                Err("permission denied".into())
            }
        });
        assert_eq!(actions.len(), 3, "{actions:?}");
        assert_eq!(f.current().unwrap().id, "b");

        // Nothing listed at all.
        let mut f = Failover::new(
            Direction::Capture,
            &options(DevicePreference::SystemDefault),
        );
        drive(&mut f, t0, &[], |_| Ok(()));
        assert_eq!(events(&mut f), [DeviceEvent::NoDevice]);
        assert_eq!(f.why_none(), "no capture device is listed");
    }

    #[test]
    fn a_device_that_keeps_failing_is_retried_less_and_less_often() {
        let t0 = Instant::now();
        let (flaky, spare) = (device("flaky", true), device("spare", false));
        let list = [flaky.clone(), spare.clone()];
        let mut f = Failover::new(
            Direction::Capture,
            &options(DevicePreference::SystemDefault),
        );
        drive(&mut f, t0, &list, |_| Ok(()));
        // Each time it comes back it hangs again; each time it is benched twice as long.
        let mut now = t0;
        let mut returns = Vec::new();
        for _ in 0..4 {
            assert_eq!(f.current(), Some(&flaky));
            f.handle_lost(now, "no audio callback".into());
            drive(&mut f, now, &list, |_| Ok(()));
            assert_eq!(f.current(), Some(&spare));
            let lost_at = now;
            while f.current() != Some(&flaky) {
                now = f.poll_timeout().unwrap();
                f.handle_timeout(now);
                drive(&mut f, now, &list, |_| Ok(()));
            }
            returns.push(now.duration_since(lost_at));
        }
        // Benched 3, 6, 12, 24 s; seen at the next 2 s scan after that.
        assert_eq!(
            returns,
            [4, 6, 12, 24].map(Duration::from_secs),
            "{returns:?}"
        );
        // Unplugged and plugged in again: a fresh start.
        now += Duration::from_secs(1);
        f.handle_lost(now, "unplugged".into());
        drive(&mut f, now, std::slice::from_ref(&spare), |_| Ok(()));
        let back = now + Duration::from_secs(2);
        f.handle_timeout(back);
        drive(&mut f, back, &list, |_| Ok(()));
        assert_eq!(f.current(), Some(&flaky), "taken back at the first scan");
    }

    #[test]
    fn a_failing_list_keeps_the_device_in_use() {
        let t0 = Instant::now();
        let a = device("a", true);
        let mut f = Failover::new(
            Direction::Capture,
            &options(DevicePreference::SystemDefault),
        );
        drive(&mut f, t0, std::slice::from_ref(&a), |_| Ok(()));
        let t1 = t0 + Duration::from_secs(2);
        f.handle_timeout(t1);
        assert_eq!(f.poll_action(), Some(Action::Scan));
        f.handle_scan_failed(t1, "ALSA hiccup".into());
        assert_eq!(f.current(), Some(&a));
        assert_eq!(f.poll_timeout(), Some(t1 + Duration::from_secs(2)));
        // A late loss report after a switch is ignored by the shell (generations); a
        // loss with nothing in use changes nothing here.
        let mut idle = Failover::new(
            Direction::Capture,
            &options(DevicePreference::SystemDefault),
        );
        idle.handle_lost(t0, "late".into());
        assert_eq!(idle.poll_action(), Some(Action::Scan));
        assert_eq!(idle.poll_action(), None);
    }
}
