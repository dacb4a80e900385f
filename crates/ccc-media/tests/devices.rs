//! Microphones and speakers on scripted devices (real threads, real time, 10 ms
//! callbacks): the device path end to end, rates converted, and the call surviving an
//! unplugged, stalled or failing device. No sound card is needed; `tests/device_alsa.rs`
//! runs the same path through cpal and ALSA.

use std::sync::Arc;
use std::time::{Duration, Instant};

use ccc_media::audio::{AudioFrame, AudioSink, AudioSource, Tone};
use ccc_media::device::{
    DeviceError, DeviceEvent, DeviceMonitor, DeviceOptions, DevicePreference, Microphone,
    ScriptedBackend, ScriptedDevice, Speaker,
};
use ccc_media::dsp::dominant_tone;

const TONES: [f64; 4] = [440.0, 1000.0, 1500.0, 2200.0];

fn quick(preference: DevicePreference) -> DeviceOptions {
    DeviceOptions {
        preference,
        rescan_every: Duration::from_millis(100),
        stall_after: Duration::from_millis(150),
        retry_after: Duration::from_millis(200),
        ..DeviceOptions::default()
    }
}

/// Pulls 20 ms frames at `rate` from `mic` for `duration`, at the call's pace.
fn record(mic: &mut Microphone, rate: u32, duration: Duration) -> Vec<i16> {
    let mut frame = AudioFrame::silent(rate);
    let mut out = Vec::new();
    let start = Instant::now();
    let mut next = start;
    while start.elapsed() < duration {
        assert!(mic.fill(&mut frame), "a microphone never runs out");
        out.extend_from_slice(frame.samples());
        next += Duration::from_millis(20);
        std::thread::sleep(next.saturating_duration_since(Instant::now()));
    }
    out
}

/// The tone heard in the last `ms` of `samples`.
fn tone_at_end(samples: &[i16], rate: u32, ms: usize) -> Option<f64> {
    let n = rate as usize * ms / 1000;
    dominant_tone(&samples[samples.len().saturating_sub(n)..], rate, &TONES)
}

/// Waits (bounded) for an event that `wanted` accepts; returns the events seen.
fn wait_for(
    monitor: &mut DeviceMonitor,
    within: Duration,
    wanted: impl Fn(&DeviceEvent) -> bool,
) -> Vec<DeviceEvent> {
    let deadline = Instant::now() + within;
    let mut seen = Vec::new();
    while Instant::now() < deadline {
        while let Some(event) = monitor.try_next_event() {
            let done = wanted(&event);
            seen.push(event);
            if done {
                return seen;
            }
        }
        std::thread::sleep(Duration::from_millis(5));
    }
    panic!("not seen within {within:?}: {seen:#?}");
}

fn opened(id: &'static str) -> impl Fn(&DeviceEvent) -> bool {
    move |e| matches!(e, DeviceEvent::Opened { device, .. } if device.id == id)
}

#[test]
fn a_microphone_at_another_rate_is_converted_for_the_call() {
    let backend = ScriptedBackend::new();
    // A stereo USB microphone that only does 44.1 kHz.
    backend.plug(ScriptedDevice::microphone("usb", 44_100, 2).with_tone(1000.0, 0.5));
    let (mut mic, mut monitor) = Microphone::open(
        Arc::new(backend.clone()),
        quick(DevicePreference::SystemDefault),
    )
    .expect("opens");
    let seen = wait_for(&mut monitor, Duration::from_secs(1), opened("usb"));
    let DeviceEvent::Opened { format, .. } = seen.last().unwrap() else {
        unreachable!()
    };
    assert_eq!((format.rate, format.channels), (44_100, 2));
    for rate in [8_000, 48_000] {
        let samples = record(&mut mic, rate, Duration::from_millis(400));
        assert_eq!(tone_at_end(&samples, rate, 200), Some(1000.0), "{rate} Hz");
    }
    let stats = monitor.stats();
    assert!(stats.device_frames > 10_000, "{stats:?}");
    drop(mic);
    let deadline = Instant::now() + Duration::from_secs(1);
    while !backend.open_streams().is_empty() {
        assert!(
            Instant::now() < deadline,
            "the stream outlived the microphone"
        );
        std::thread::sleep(Duration::from_millis(5));
    }
}

#[test]
fn the_call_survives_an_unplugged_headset_and_takes_it_back() {
    let backend = ScriptedBackend::new();
    backend.plug(
        ScriptedDevice::microphone("built-in", 48_000, 1)
            .as_default()
            .with_tone(1000.0, 0.5),
    );
    backend.plug(ScriptedDevice::microphone("headset", 16_000, 1).with_tone(440.0, 0.5));
    let (mut mic, mut monitor) = Microphone::open(
        Arc::new(backend.clone()),
        quick(DevicePreference::Name("Headset".into())),
    )
    .expect("opens");
    wait_for(&mut monitor, Duration::from_secs(1), opened("headset"));
    let before = record(&mut mic, 48_000, Duration::from_millis(300));
    assert_eq!(tone_at_end(&before, 48_000, 150), Some(440.0));

    backend.unplug("headset");
    let seen = wait_for(&mut monitor, Duration::from_secs(1), opened("built-in"));
    assert!(
        seen.iter()
            .any(|e| matches!(e, DeviceEvent::Lost { device, .. } if device.id == "headset")),
        "{seen:#?}"
    );
    let during = record(&mut mic, 48_000, Duration::from_millis(300));
    assert_eq!(
        tone_at_end(&during, 48_000, 150),
        Some(1000.0),
        "on the next device"
    );
    assert_eq!(monitor.current().unwrap().0.id, "built-in");

    // Plugged in again: taken back after the retry delay, at a rescan.
    backend.plug(ScriptedDevice::microphone("headset", 16_000, 1).with_tone(440.0, 0.5));
    wait_for(&mut monitor, Duration::from_secs(2), opened("headset"));
    let after = record(&mut mic, 48_000, Duration::from_millis(300));
    assert_eq!(tone_at_end(&after, 48_000, 150), Some(440.0));
    assert_eq!(backend.open_streams(), ["headset"], "one stream at a time");
}

#[test]
fn a_stalled_device_is_given_up() {
    let backend = ScriptedBackend::new();
    backend.plug(
        ScriptedDevice::microphone("hangs", 48_000, 1)
            .as_default()
            .with_tone(440.0, 0.5),
    );
    backend.plug(ScriptedDevice::microphone("spare", 48_000, 1).with_tone(1500.0, 0.5));
    // Not taken back when it lists again: this test is about the switch.
    let mut options = quick(DevicePreference::SystemDefault);
    options.return_to_preferred = false;
    let (mut mic, mut monitor) =
        Microphone::open(Arc::new(backend.clone()), options).expect("opens");
    wait_for(&mut monitor, Duration::from_secs(1), opened("hangs"));
    backend.stall("hangs");
    let seen = wait_for(&mut monitor, Duration::from_secs(2), opened("spare"));
    assert!(
        seen.iter().any(|e| matches!(e, DeviceEvent::Lost { reason, .. } if reason.contains("no audio callback"))),
        "{seen:#?}"
    );
    let samples = record(&mut mic, 8_000, Duration::from_millis(300));
    assert_eq!(tone_at_end(&samples, 8_000, 150), Some(1500.0));
}

#[test]
fn with_every_device_gone_the_microphone_gives_silence_until_one_is_plugged_in() {
    let backend = ScriptedBackend::new();
    backend.plug(ScriptedDevice::microphone("only", 48_000, 1).with_tone(440.0, 0.5));
    let (mut mic, mut monitor) = Microphone::open(
        Arc::new(backend.clone()),
        quick(DevicePreference::SystemDefault),
    )
    .expect("opens");
    wait_for(&mut monitor, Duration::from_secs(1), opened("only"));
    backend.unplug("only");
    wait_for(&mut monitor, Duration::from_secs(1), |e| {
        *e == DeviceEvent::NoDevice
    });
    let quiet = record(&mut mic, 8_000, Duration::from_millis(200));
    assert!(quiet[quiet.len() / 2..].iter().all(|s| *s == 0), "silence");
    assert!(monitor.current().is_none());
    backend.plug(ScriptedDevice::microphone("new", 48_000, 1).with_tone(2200.0, 0.5));
    wait_for(&mut monitor, Duration::from_secs(1), opened("new"));
    let samples = record(&mut mic, 8_000, Duration::from_millis(300));
    assert_eq!(tone_at_end(&samples, 8_000, 150), Some(2200.0));
}

#[test]
fn no_usable_device_is_an_error_that_says_why() {
    let backend = ScriptedBackend::new();
    let nothing = Microphone::open(
        Arc::new(backend.clone()),
        quick(DevicePreference::SystemDefault),
    );
    let Err(DeviceError::NoDevice { reason, .. }) = nothing else {
        panic!("{nothing:?}");
    };
    assert_eq!(reason, "no capture device is listed");

    backend.plug(ScriptedDevice::microphone("locked", 48_000, 1).failing("permission denied"));
    backend.plug(ScriptedDevice::microphone("broken", 48_000, 1).failing("I/O error"));
    // A speaker does not count as a microphone.
    backend.plug(ScriptedDevice::speaker("speaker", 48_000, 2));
    let failing = Microphone::open(
        Arc::new(backend.clone()),
        quick(DevicePreference::SystemDefault),
    );
    let Err(DeviceError::NoDevice { reason, .. }) = failing else {
        panic!("{failing:?}");
    };
    assert!(
        reason.contains("locked: audio backend: permission denied")
            && reason.contains("broken: audio backend: I/O error"),
        "{reason}"
    );
    assert_eq!(backend.opens(), ["locked", "broken"]);

    // A device whose first choice fails is skipped for the next.
    backend.plug(ScriptedDevice::microphone("fine", 48_000, 1));
    let (_mic, mut monitor) = Microphone::open(
        Arc::new(backend.clone()),
        quick(DevicePreference::Id("locked".into())),
    )
    .expect("the next device");
    let seen = wait_for(&mut monitor, Duration::from_secs(1), opened("fine"));
    assert!(matches!(&seen[0], DeviceEvent::OpenFailed { device, .. } if device.id == "locked"));
}

#[test]
fn a_speaker_plays_the_call_and_moves_to_the_next_device() {
    let backend = ScriptedBackend::new();
    backend.plug(ScriptedDevice::speaker("headphones", 44_100, 2).as_default());
    backend.plug(ScriptedDevice::speaker("loudspeaker", 48_000, 1));
    let (mut speaker, mut monitor) = Speaker::open(
        Arc::new(backend.clone()),
        quick(DevicePreference::SystemDefault),
    )
    .expect("opens");
    wait_for(&mut monitor, Duration::from_secs(1), opened("headphones"));
    // The call's audio: an 8 kHz tone, one frame every 20 ms.
    let play = |speaker: &mut Speaker, duration: Duration| {
        let mut tone = Tone::new(1000.0, 0.5);
        let mut frame = AudioFrame::silent(8_000);
        let start = Instant::now();
        let mut next = start;
        while start.elapsed() < duration {
            tone.fill(&mut frame);
            speaker.write(&frame);
            next += Duration::from_millis(20);
            std::thread::sleep(next.saturating_duration_since(Instant::now()));
        }
    };
    play(&mut speaker, Duration::from_millis(500));
    let heard = |id: &str, rate: u32| {
        let played: Vec<i16> = backend
            .played(id)
            .iter()
            .map(|s| (s * 32767.0) as i16)
            .collect();
        let n = rate as usize / 5;
        dominant_tone(&played[played.len().saturating_sub(n)..], rate, &TONES)
    };
    assert_eq!(
        heard("headphones", 44_100),
        Some(1000.0),
        "converted to 44.1 kHz"
    );

    backend.unplug("headphones");
    wait_for(&mut monitor, Duration::from_secs(1), opened("loudspeaker"));
    play(&mut speaker, Duration::from_millis(500));
    assert_eq!(heard("loudspeaker", 48_000), Some(1000.0));
    let stats = monitor.stats();
    assert!(stats.device_frames > 0, "{stats:?}");
}
