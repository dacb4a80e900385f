//! The device path through cpal and ALSA for real, on a machine without a sound card.
//!
//! ALSA's `file` plugin makes a device of two named pipes: what it captures is read
//! from one (fed here with a tone, in real time), what it plays is written to the other
//! (read here, in real time, and analysed). Its slave is ALSA's `null` device. The test
//! runs in a child process whose `HOME` holds the `.asoundrc` that defines the device,
//! since ALSA reads its configuration once per process.
//!
//! What it shows: the listing (ALSA's `default`, which cannot open here, `null`, and the
//! tap), a real open failure failed over to the next device, the device check's verdict
//! on this machine (8001: `null` captures digital silence), a tone captured through
//! ALSA and converted to the call's 8 kHz, and a call's 8 kHz tone played through ALSA
//! at 48 kHz.

#![cfg(all(feature = "device", target_os = "linux"))]

use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use ccc_media::audio::{AudioFrame, AudioSink, AudioSource, Tone};
use ccc_media::check::{DeviceCheckOptions, DeviceProblem, MICROPHONE_ERROR, check_devices};
use ccc_media::device::{
    AudioBackend, CpalBackend, DeviceEvent, DeviceMonitor, DeviceOptions, DevicePreference,
    Direction, Microphone, Speaker,
};
use ccc_media::dsp::dominant_tone;

const CHILD: &str = "CCC_MEDIA_ALSA_TEST_HOME";
const TAP: &str = "ccc test tap";
const RATE: usize = 48_000;
const TONES: [f64; 3] = [440.0, 1000.0, 1500.0];

#[test]
fn through_cpal_and_alsa() {
    if let Some(home) = std::env::var_os(CHILD) {
        child(Path::new(&home));
        return;
    }
    if !Path::new("/usr/share/alsa/alsa.conf").exists() {
        eprintln!("\n!!!!! no ALSA configuration on this machine: SKIPPED !!!!!\n");
        return;
    }
    let dir = std::env::temp_dir().join(format!("ccc-media-alsa-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    for fifo in ["in.fifo", "out.fifo"] {
        let path = dir.join(fifo);
        let _ = std::fs::remove_file(&path);
        let made = Command::new("mkfifo")
            .arg(&path)
            .status()
            .expect("mkfifo runs");
        assert!(made.success());
    }
    let asoundrc = format!(
        "pcm.ccc_tap {{\n  type file\n  slave.pcm \"null\"\n  file \"{out}\"\n  infile \"{input}\"\n  \
         format \"raw\"\n  hint {{ show on description \"{TAP}\" }}\n}}\n",
        out = dir.join("out.fifo").display(),
        input = dir.join("in.fifo").display(),
    );
    std::fs::write(dir.join(".asoundrc"), asoundrc).unwrap();

    let mut child = Command::new(std::env::current_exe().unwrap())
        .args(["--exact", "through_cpal_and_alsa", "--nocapture"])
        .env("HOME", &dir)
        .env(CHILD, &dir)
        .spawn()
        .expect("the test binary runs again");
    let deadline = Instant::now() + Duration::from_secs(60);
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            panic!("the ALSA test did not finish within 60 s");
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    let _ = std::fs::remove_dir_all(&dir);
    assert!(
        status.success(),
        "the ALSA test failed (its output is above)"
    );
}

/// Feeds a 1 kHz tone (f32, mono, 48 kHz, amplitude 0.5) into the capture pipe at the
/// pace of real time.
fn feed(path: PathBuf, stop: Arc<AtomicBool>) {
    // Read and write: the open never blocks, and writes never fail for want of a
    // reader.
    let Ok(mut pipe) = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .open(path)
    else {
        return;
    };
    let start = Instant::now();
    let mut n = 0usize;
    while !stop.load(Ordering::Relaxed) {
        let chunk: Vec<u8> = (n..n + RATE / 100)
            .flat_map(|i| {
                let x = (std::f64::consts::TAU * 1000.0 * i as f64 / RATE as f64).sin() * 0.5;
                (x as f32).to_le_bytes()
            })
            .collect();
        if pipe.write_all(&chunk).is_err() {
            return;
        }
        n += RATE / 100;
        let due = start + Duration::from_secs_f64(n as f64 / RATE as f64);
        std::thread::sleep(due.saturating_duration_since(Instant::now()));
    }
}

/// Reads the playback pipe at the pace of real time, keeping the last two seconds.
fn drain(path: PathBuf, heard: Arc<Mutex<Vec<i16>>>) {
    let Ok(mut pipe) = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .open(path)
    else {
        return;
    };
    let start = Instant::now();
    let mut total = 0usize;
    let mut buf = vec![0u8; RATE / 100 * 4];
    while let Ok(n) = pipe.read(&mut buf) {
        let mut kept = heard.lock().unwrap();
        kept.extend(buf[..n - n % 4].chunks_exact(4).map(|b| {
            let x = f32::from_le_bytes([b[0], b[1], b[2], b[3]]);
            (x.clamp(-1.0, 1.0) * 32767.0) as i16
        }));
        let excess = kept.len().saturating_sub(2 * RATE);
        kept.drain(..excess);
        drop(kept);
        total += n / 4;
        let due = start + Duration::from_secs_f64(total as f64 / RATE as f64);
        std::thread::sleep(due.saturating_duration_since(Instant::now()));
    }
}

fn events(
    monitor: &mut DeviceMonitor,
    within: Duration,
    until: impl Fn(&DeviceEvent) -> bool,
) -> Vec<DeviceEvent> {
    let deadline = Instant::now() + within;
    let mut seen = Vec::new();
    while Instant::now() < deadline {
        while let Some(e) = monitor.try_next_event() {
            let done = until(&e);
            seen.push(e);
            if done {
                return seen;
            }
        }
        std::thread::sleep(Duration::from_millis(5));
    }
    seen
}

fn child(home: &Path) {
    let stop = Arc::new(AtomicBool::new(false));
    let heard = Arc::new(Mutex::new(Vec::new()));
    let feeder = {
        let (path, stop) = (home.join("in.fifo"), Arc::clone(&stop));
        std::thread::spawn(move || feed(path, stop))
    };
    {
        let (path, heard) = (home.join("out.fifo"), Arc::clone(&heard));
        std::thread::spawn(move || drain(path, heard));
    }
    let backend: Arc<dyn AudioBackend> = Arc::new(CpalBackend::new());

    // The listing: ALSA's default first, then what its hints list.
    let microphones = backend.devices(Direction::Capture).expect("ALSA lists");
    let ids: Vec<&str> = microphones.iter().map(|d| d.id.as_str()).collect();
    println!("capture devices here: {ids:?}");
    assert_eq!(microphones[0].id, "alsa:default");
    assert!(microphones[0].is_default);
    assert!(
        ids.contains(&"alsa:null") && ids.contains(&"alsa:ccc_tap"),
        "{ids:?}"
    );
    assert!(microphones.iter().any(|d| d.name == TAP));
    let speakers = backend.devices(Direction::Playback).expect("ALSA lists");
    assert!(speakers.iter().any(|d| d.id == "alsa:ccc_tap"));

    // The default does not open (no sound card): the next device is used.
    let options = DeviceOptions {
        preference: DevicePreference::Id("alsa:default".into()),
        ..DeviceOptions::default()
    };
    let (mic, mut monitor) =
        Microphone::open(Arc::clone(&backend), options).expect("a next device");
    let seen = events(&mut monitor, Duration::from_secs(2), |e| {
        matches!(e, DeviceEvent::Opened { .. })
    });
    println!("opening the default: {seen:#?}");
    assert!(
        matches!(&seen[0], DeviceEvent::OpenFailed { device, .. } if device.id == "alsa:default"),
        "{seen:#?}"
    );
    assert!(
        matches!(seen.last(), Some(DeviceEvent::Opened { device, .. }) if device.id == "alsa:null")
    );
    drop(mic);

    // The device check with the system's choices, as a user here would run it: the
    // microphone (ALSA's null) gives digital silence: 8001; a speaker is there.
    let quick = DeviceCheckOptions {
        listen: Duration::from_millis(300),
        ..DeviceCheckOptions::default()
    };
    let report = check_devices(Arc::clone(&backend), &quick);
    println!("device check with the defaults: {report:#?}");
    assert_eq!(report.error_codes(), [MICROPHONE_ERROR]);
    assert!(matches!(&report.capture, Err(DeviceProblem::Silent { .. })));

    // The tap: a real tone through ALSA, at 48 kHz, to the call's 8 kHz.
    let tap = DevicePreference::Name(TAP.into());
    let (mut mic, mut monitor) =
        Microphone::open(Arc::clone(&backend), DeviceOptions::prefer(tap.clone()))
            .expect("the tap opens");
    let seen = events(&mut monitor, Duration::from_secs(2), |e| {
        matches!(e, DeviceEvent::Opened { .. })
    });
    println!("the tap: {seen:?}");
    let mut frame = AudioFrame::silent(8_000);
    let mut samples = Vec::new();
    let mut next = Instant::now();
    for _ in 0..40 {
        next += Duration::from_millis(20);
        std::thread::sleep(next.saturating_duration_since(Instant::now()));
        mic.fill(&mut frame);
        samples.extend_from_slice(frame.samples());
    }
    assert_eq!(
        dominant_tone(&samples[samples.len() - 1600..], 8_000, &TONES),
        Some(1000.0),
        "the tone through ALSA; {:?}",
        monitor.stats()
    );
    // (What queued in the pipe before the tap opened arrives at once and is mostly
    // dropped: the microphone keeps the delay bounded.)
    println!("tap capture: {:?}", monitor.stats());
    drop(mic);
    // (The speaker on `null`: a second instance of the tap would take its share of the
    // captured pipe.)
    let checked = DeviceCheckOptions {
        microphone: tap.clone(),
        speaker: DevicePreference::Id("alsa:null".into()),
        ..quick
    };
    let report = check_devices(Arc::clone(&backend), &checked);
    println!("device check on the tap: {report:#?}");
    assert!(report.passed(), "{report:#?}");
    let level = report.capture.as_ref().unwrap();
    assert!((level.rms_dbfs + 9.0).abs() < 1.5, "{level:?}");
    stop.store(true, Ordering::Relaxed);
    let _ = feeder.join();

    // Playback: the call's 8 kHz tone, played through ALSA at 48 kHz.
    let (mut speaker, mut monitor) =
        Speaker::open(Arc::clone(&backend), DeviceOptions::prefer(tap)).expect("the tap opens");
    events(&mut monitor, Duration::from_secs(2), |e| {
        matches!(e, DeviceEvent::Opened { .. })
    });
    heard.lock().unwrap().clear();
    let mut tone = Tone::new(1500.0, 0.5);
    let mut frame = AudioFrame::silent(8_000);
    let mut next = Instant::now();
    for _ in 0..75 {
        tone.fill(&mut frame);
        speaker.write(&frame);
        next += Duration::from_millis(20);
        std::thread::sleep(next.saturating_duration_since(Instant::now()));
    }
    let played = heard.lock().unwrap().clone();
    println!("played {} samples; {:?}", played.len(), monitor.stats());
    assert!(played.len() > RATE / 2, "the pipe was read");
    assert_eq!(
        dominant_tone(&played[played.len() - RATE / 5..], RATE as u32, &TONES),
        Some(1500.0)
    );
}
