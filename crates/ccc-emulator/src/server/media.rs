//! The calls' audio inside the emulator: a mixer per call that the agents' WebRTC
//! sessions and the simulated customers plug into.
//!
//! The emulator is a back-to-back user agent: it terminates the media of every leg.
//! An agent's leg is a real WebRTC session (ccc-media) between the emulator and the
//! agent's device; a simulated customer is an audio endpoint inside the emulator that
//! plays its script's tone or WAV, sends its DTMF and writes what it hears to a WAV
//! file. The platform's [`Output::Mix`](crate::platform::Output) says who hears whom;
//! a 20 ms tick clocks the whole mix: each tick takes one frame from every leg (a
//! customer's script, or what an agent's session received, queued), gives each leg the
//! sum of those it hears (queued for an agent's session to send), and grows the call
//! recording (stereo, agent left, the other parties right). The short queues absorb
//! the drift between the tick and each session's own pacing. Everything is mixed at
//! 8 kHz; sessions at other rates are converted on the way in and out.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

use ccc_core::model::Text;
use ccc_media::audio::{
    AudioFrame, AudioSink, AudioSource, CallRecorder, FrameResampler, Tone, WavSource,
};
use tokio::sync::{mpsc, watch};

use crate::platform::{LegId, MixLeg};
use crate::scenario::{CustomerScript, Playback};

/// The rate of the mixer.
pub(crate) const MIX_RATE: u32 = 8_000;
/// The level of hold and queue music (a soft 425 Hz tone).
const MUSIC_HZ: f64 = 425.0;
/// Frames queued between a session and the tick, each way; older ones are dropped.
const QUEUE: usize = 10;

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

/// A simulated customer's audio.
struct Line {
    source: Box<dyn AudioSource>,
    heard: Option<hound::WavWriter<std::io::BufWriter<std::fs::File>>>,
    heard_path: Option<PathBuf>,
    dtmf: Option<LineDtmf>,
}

/// The digits a customer presses once someone is on the line with it.
struct LineDtmf {
    digits: String,
    /// How long after the line is first connected.
    after: Duration,
    /// When they are due, from the first tick the line hears someone.
    due: Option<Instant>,
}

impl LineDtmf {
    /// The digits, once due and someone hears them: the clock starts when the line is
    /// first `connected` (an inbound customer waits for an agent to answer), and digits
    /// due while no one is on the line (on hold) wait for someone.
    fn take_due(dtmf: &mut Option<Self>, connected: bool, now: Instant) -> Option<String> {
        let pending = dtmf.as_mut()?;
        if !connected {
            return None;
        }
        let due = *pending.due.get_or_insert(now + pending.after);
        if due <= now {
            return dtmf.take().map(|d| d.digits);
        }
        None
    }
}

struct LegAudio {
    /// This tick's frame from the leg.
    input: AudioFrame,
    /// Frames an agent's session received, for the next ticks.
    inbox: std::collections::VecDeque<AudioFrame>,
    /// Mixed frames for an agent's session to send.
    outbox: std::collections::VecDeque<AudioFrame>,
    hears: Vec<LegId>,
    music: bool,
    line: Option<Line>,
    agent: bool,
    /// An agent leg's WebRTC media has connected (a customer's line is always up).
    flowing: bool,
}

impl LegAudio {
    fn new(agent: bool) -> Self {
        Self {
            input: AudioFrame::silent(MIX_RATE),
            inbox: std::collections::VecDeque::with_capacity(QUEUE),
            outbox: std::collections::VecDeque::with_capacity(QUEUE),
            hears: Vec::new(),
            music: false,
            line: None,
            flowing: !agent,
            agent,
        }
    }
}

/// One call's mixer.
struct CallMix {
    legs: HashMap<LegId, LegAudio>,
    music: Tone,
    recorder: Option<CallRecorder>,
    recording: Option<PathBuf>,
}

impl CallMix {
    fn new() -> Self {
        Self {
            legs: HashMap::new(),
            music: Tone::new(MUSIC_HZ, 0.1),
            recorder: None,
            recording: None,
        }
    }

    /// What `leg` hears now, into `out` (8 kHz).
    fn mix_for(&mut self, leg: LegId, out: &mut AudioFrame) {
        out.samples_mut().fill(0);
        let Some(me) = self.legs.get(&leg) else {
            return;
        };
        if me.music {
            self.music.fill(out);
            return;
        }
        for other in &me.hears {
            let Some(o) = self.legs.get(other) else {
                continue;
            };
            for (acc, s) in out.samples_mut().iter_mut().zip(o.input.samples()) {
                *acc = acc.saturating_add(*s);
            }
        }
    }
}

/// A DTMF request from a customer's script, for the SIP shell to send to an agent.
#[derive(Debug, Clone)]
pub(crate) struct CustomerDtmf {
    pub(crate) to: LegId,
    pub(crate) digits: String,
}

/// Every call's mixer.
pub(crate) struct MediaHub {
    calls: Mutex<HashMap<Text, Arc<Mutex<CallMix>>>>,
    dir: PathBuf,
    record_calls: bool,
    dtmf: mpsc::UnboundedSender<CustomerDtmf>,
}

impl std::fmt::Debug for MediaHub {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MediaHub")
            .field("calls", &lock(&self.calls).len())
            .finish_non_exhaustive()
    }
}

fn open_source(script: &CustomerScript) -> Box<dyn AudioSource> {
    match &script.play {
        Playback::Tone { hz } => Box::new(Tone::new(f64::from(*hz), 0.3)),
        Playback::Wav { path } => match WavSource::open(path) {
            Ok(wav) => Box::new(wav.looping()),
            // A file that cannot be read plays silence; the scenario check caught what
            // it could (an empty path).
            Err(_) => Box::new(ccc_media::audio::Silence),
        },
        _ => Box::new(ccc_media::audio::Silence),
    }
}

impl MediaHub {
    /// A hub writing recordings to `dir`; customer DTMF requests go to `dtmf`.
    pub(crate) fn new(
        dir: PathBuf,
        record_calls: bool,
        dtmf: mpsc::UnboundedSender<CustomerDtmf>,
    ) -> Self {
        Self {
            calls: Mutex::new(HashMap::new()),
            dir,
            record_calls,
            dtmf,
        }
    }

    fn call(&self, job: &Text) -> Arc<Mutex<CallMix>> {
        lock(&self.calls)
            .entry(job.clone())
            .or_insert_with(|| Arc::new(Mutex::new(CallMix::new())))
            .clone()
    }

    /// The audio ends of an agent leg's WebRTC session.
    pub(crate) fn agent_ends(&self, job: &Text, leg: LegId) -> (MixSource, MixSink) {
        let mix = self.call(job);
        lock(&mix)
            .legs
            .entry(leg)
            .or_insert_with(|| LegAudio::new(true));
        (
            MixSource {
                mix: mix.clone(),
                leg,
                scratch: AudioFrame::silent(MIX_RATE),
                out: None,
            },
            MixSink {
                mix,
                leg,
                scratch: AudioFrame::silent(MIX_RATE),
                into: None,
            },
        )
    }

    /// A simulated customer joins the call's audio (its line answered).
    pub(crate) fn add_line(&self, job: &Text, leg: LegId, number: &str, script: &CustomerScript) {
        let heard_path = script
            .record
            .then(|| self.dir.join(heard_file_name(job, leg, number)));
        let heard = heard_path.as_ref().and_then(|path| {
            let spec = hound::WavSpec {
                channels: 1,
                sample_rate: MIX_RATE,
                bits_per_sample: 16,
                sample_format: hound::SampleFormat::Int,
            };
            hound::WavWriter::create(path, spec).ok()
        });
        let dtmf = script.dtmf.clone().map(|digits| LineDtmf {
            digits,
            after: Duration::from_millis(script.dtmf_after_ms),
            due: None,
        });
        let mix = self.call(job);
        let mut mix = lock(&mix);
        let audio = mix.legs.entry(leg).or_insert_with(|| LegAudio::new(false));
        audio.agent = false;
        audio.line = Some(Line {
            source: open_source(script),
            heard,
            heard_path,
            dtmf,
        });
    }

    /// Who hears whom in the call changed.
    pub(crate) fn set_mix(&self, job: &Text, legs: &[MixLeg]) {
        let mix = self.call(job);
        let mut mix = lock(&mix);
        for audio in mix.legs.values_mut() {
            audio.hears.clear();
            audio.music = false;
        }
        for plan in legs {
            let audio = mix
                .legs
                .entry(plan.leg)
                .or_insert_with(|| LegAudio::new(false));
            audio.hears.clone_from(&plan.hears);
            audio.music = plan.music;
        }
        if self.record_calls && mix.recorder.is_none() && legs.iter().any(|l| !l.hears.is_empty()) {
            let path = self.dir.join(format!("{job}.wav"));
            if let Ok(recorder) = CallRecorder::create(&path, MIX_RATE) {
                mix.recorder = Some(recorder);
                mix.recording = Some(path);
            }
        }
    }

    /// An agent leg's media connected: its customer counts its digits from there.
    pub(crate) fn media_flowing(&self, job: &Text, leg: LegId) {
        if let Some(mix) = lock(&self.calls).get(job).cloned()
            && let Some(audio) = lock(&mix).legs.get_mut(&leg)
        {
            audio.flowing = true;
        }
    }

    /// A leg left the call's audio.
    pub(crate) fn remove_leg(&self, job: &Text, leg: LegId) {
        let Some(mix) = lock(&self.calls).get(job).cloned() else {
            return;
        };
        let mut mix = lock(&mix);
        if let Some(mut audio) = mix.legs.remove(&leg)
            && let Some(line) = audio.line.as_mut()
            && let Some(writer) = line.heard.take()
        {
            let _ = writer.finalize();
        }
    }

    /// The call ended: close its files.
    pub(crate) fn finish(&self, job: &Text) {
        let Some(mix) = lock(&self.calls).remove(job) else {
            return;
        };
        let mut mix = lock(&mix);
        if let Some(recorder) = mix.recorder.as_mut() {
            let _ = recorder.finish();
        }
        for audio in mix.legs.values_mut() {
            if let Some(writer) = audio.line.as_mut().and_then(|l| l.heard.take()) {
                let _ = writer.finalize();
            }
        }
    }

    /// One 20 ms step: every leg gives a frame, every leg gets its mix, the
    /// recordings grow.
    pub(crate) fn tick(&self, now: Instant) {
        let calls: Vec<Arc<Mutex<CallMix>>> = lock(&self.calls).values().cloned().collect();
        let mut heard = AudioFrame::silent(MIX_RATE);
        for mix in calls {
            let mut mix = lock(&mix);
            for audio in mix.legs.values_mut() {
                match audio.line.as_mut() {
                    Some(line) => {
                        line.source.fill(&mut audio.input);
                    }
                    None => match audio.inbox.pop_front() {
                        Some(frame) => audio.input = frame,
                        None => audio.input.samples_mut().fill(0),
                    },
                }
            }
            let legs: Vec<LegId> = mix.legs.keys().copied().collect();
            for leg in legs {
                mix.mix_for(leg, &mut heard);
                let Some(audio) = mix.legs.get_mut(&leg) else {
                    continue;
                };
                let hears = audio.hears.clone();
                if audio.line.is_none() {
                    if audio.outbox.len() >= QUEUE {
                        audio.outbox.pop_front();
                    }
                    audio.outbox.push_back(heard.clone());
                    continue;
                }
                // Someone is on the line once a leg it hears has media that flows.
                let connected = hears
                    .iter()
                    .any(|l| mix.legs.get(l).is_some_and(|a| a.flowing));
                let Some(line) = mix.legs.get_mut(&leg).and_then(|a| a.line.as_mut()) else {
                    continue;
                };
                if let Some(writer) = line.heard.as_mut() {
                    for s in heard.samples() {
                        if writer.write_sample(*s).is_err() {
                            break;
                        }
                    }
                }
                if let Some(digits) = LineDtmf::take_due(&mut line.dtmf, connected, now) {
                    for to in hears {
                        let _ = self.dtmf.send(CustomerDtmf {
                            to,
                            digits: digits.clone(),
                        });
                    }
                }
            }
            record(&mut mix);
        }
    }

    /// The WAV file of what a customer heard, once written.
    pub(crate) fn heard_file(&self, job: &Text, leg: LegId) -> Option<PathBuf> {
        let mix = lock(&self.calls).get(job).cloned()?;
        let mix = lock(&mix);
        mix.legs.get(&leg)?.line.as_ref()?.heard_path.clone()
    }

    /// Runs the tick until `shutdown`.
    pub(crate) async fn run(self: Arc<Self>, mut shutdown: watch::Receiver<bool>) {
        let mut every =
            tokio::time::interval(Duration::from_millis(u64::from(ccc_media::audio::FRAME_MS)));
        // A late tick (a busy machine) is made up at once, so every leg gets every
        // frame; skipping ticks leaves gaps in everyone's audio.
        every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Burst);
        loop {
            tokio::select! {
                _ = every.tick() => self.tick(Instant::now()),
                _ = shutdown.changed() => return,
            }
        }
    }
}

/// Appends 20 ms to the call recording: the first agent on the left, everyone else
/// who is heard on the right.
fn record(mix: &mut CallMix) {
    let Some(recorder) = mix.recorder.as_mut() else {
        return;
    };
    let mut agent = AudioFrame::silent(MIX_RATE);
    let mut remote = AudioFrame::silent(MIX_RATE);
    let mut agent_taken = false;
    let mut legs: Vec<(&LegId, &LegAudio)> = mix.legs.iter().collect();
    legs.sort_by_key(|(l, _)| **l);
    for (_, audio) in legs {
        let target = if audio.agent && !agent_taken {
            agent_taken = true;
            &mut agent
        } else {
            &mut remote
        };
        for (acc, s) in target.samples_mut().iter_mut().zip(audio.input.samples()) {
            *acc = acc.saturating_add(*s);
        }
    }
    if recorder.write(&agent, &remote).is_err() {
        mix.recorder = None;
    }
}

/// The file name of what a customer heard.
pub(crate) fn heard_file_name(job: &str, leg: LegId, number: &str) -> String {
    let number: String = number.chars().filter(char::is_ascii_digit).collect();
    format!("{job}-leg{}-{number}-heard.wav", leg.0)
}

/// What an agent's WebRTC session sends: the mix for its leg.
pub(crate) struct MixSource {
    mix: Arc<Mutex<CallMix>>,
    leg: LegId,
    scratch: AudioFrame,
    out: Option<FrameResampler>,
}

impl AudioSource for MixSource {
    fn fill(&mut self, frame: &mut AudioFrame) -> bool {
        let next = lock(&self.mix)
            .legs
            .get_mut(&self.leg)
            .and_then(|a| a.outbox.pop_front());
        match next {
            Some(mixed) => self.scratch = mixed,
            None => self.scratch.samples_mut().fill(0),
        }
        if frame.rate() == MIX_RATE {
            frame.samples_mut().copy_from_slice(self.scratch.samples());
            return true;
        }
        if self.out.as_ref().is_none_or(|r| r.from_rate() != MIX_RATE) {
            self.out = FrameResampler::new(MIX_RATE, frame.rate()).ok();
        }
        let ok = self.out.as_mut().is_some_and(|r| {
            r.process(self.scratch.samples(), frame.samples_mut())
                .is_ok()
        });
        if !ok {
            frame.samples_mut().fill(0);
        }
        true
    }
}

/// Where an agent's WebRTC session puts what it receives: the leg's input.
pub(crate) struct MixSink {
    mix: Arc<Mutex<CallMix>>,
    leg: LegId,
    scratch: AudioFrame,
    into: Option<FrameResampler>,
}

impl AudioSink for MixSink {
    fn write(&mut self, frame: &AudioFrame) {
        let converted = if frame.rate() == MIX_RATE {
            self.scratch.samples_mut().copy_from_slice(frame.samples());
            true
        } else {
            if self
                .into
                .as_ref()
                .is_none_or(|r| r.from_rate() != frame.rate())
            {
                self.into = FrameResampler::new(frame.rate(), MIX_RATE).ok();
            }
            self.into.as_mut().is_some_and(|r| {
                r.process(frame.samples(), self.scratch.samples_mut())
                    .is_ok()
            })
        };
        if !converted {
            return;
        }
        let mut mix = lock(&self.mix);
        if let Some(audio) = mix.legs.get_mut(&self.leg) {
            if audio.inbox.len() >= QUEUE {
                audio.inbox.pop_front();
            }
            audio.inbox.push_back(self.scratch.clone());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ccc_media::dsp::dominant_tone;

    fn plan(leg: u64, hears: &[u64], music: bool) -> MixLeg {
        let mut m = crate::platform::MixLeg::new(LegId(leg));
        m.hears = hears.iter().map(|l| LegId(*l)).collect();
        m.music = music;
        m
    }

    #[test]
    fn a_customer_presses_its_keys_a_while_after_an_agent_is_on_the_line() {
        let (tx, mut rx) = mpsc::unbounded_channel();
        let hub = MediaHub::new(std::env::temp_dir(), false, tx);
        let job: Text = "job-dtmf".into();
        let script = CustomerScript {
            record: false,
            dtmf: Some("12#".into()),
            dtmf_after_ms: 300,
            ..CustomerScript::default()
        };
        hub.add_line(&job, LegId(1), "13800000009", &script);
        let _agent = hub.agent_ends(&job, LegId(2));
        // Ringing for ten seconds: the customer hears no one and presses nothing.
        let start = Instant::now();
        hub.set_mix(&job, &[plan(1, &[], true), plan(2, &[], false)]);
        hub.tick(start);
        hub.tick(start + Duration::from_secs(10));
        assert!(rx.try_recv().is_err(), "no keys pressed to no one");
        // Answered at 9 s, the agent's media not connected yet: still nothing.
        hub.set_mix(&job, &[plan(1, &[2], false), plan(2, &[1], false)]);
        hub.tick(start + Duration::from_secs(9));
        hub.tick(start + Duration::from_secs(10));
        assert!(
            rx.try_recv().is_err(),
            "no keys before the agent's media flows"
        );
        // Its media connects at 10 s: the keys come 300 ms later, to the agent.
        let answered = start + Duration::from_secs(10);
        hub.media_flowing(&job, LegId(2));
        hub.tick(answered);
        hub.tick(answered + Duration::from_millis(299));
        assert!(rx.try_recv().is_err(), "not before 300 ms");
        hub.tick(answered + Duration::from_millis(300));
        let pressed = rx.try_recv().expect("the keys");
        assert_eq!((pressed.to, pressed.digits.as_str()), (LegId(2), "12#"));
        hub.tick(answered + Duration::from_secs(1));
        assert!(rx.try_recv().is_err(), "pressed once");
        hub.finish(&job);
    }

    #[test]
    fn a_customer_hears_the_agent_and_the_agent_hears_the_customer() {
        let dir = std::env::temp_dir().join(format!("ccc-emu-media-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let (tx, _rx) = mpsc::unbounded_channel();
        let hub = MediaHub::new(dir.clone(), true, tx);
        let job: Text = "job-1".into();
        let now = Instant::now();
        let script = CustomerScript::default(); // a 440 Hz tone, recorded
        hub.add_line(&job, LegId(1), "13800000009", &script);
        let (mut source, mut sink) = hub.agent_ends(&job, LegId(2));
        hub.set_mix(&job, &[plan(1, &[2], false), plan(2, &[1], false)]);
        let mut agent_says = Tone::new(1_000.0, 0.3);
        let mut heard_by_agent = Vec::new();
        for _ in 0..25 {
            hub.tick(now);
            let mut frame = AudioFrame::silent(16_000);
            source.fill(&mut frame); // what the agent's device receives, at 16 kHz
            heard_by_agent.extend_from_slice(frame.samples());
            let mut spoken = AudioFrame::silent(16_000);
            agent_says.fill(&mut spoken);
            sink.write(&spoken);
        }
        assert_eq!(
            dominant_tone(&heard_by_agent[3_200..], 16_000, &[440.0, 1_000.0]),
            Some(440.0)
        );
        let file = hub.heard_file(&job, LegId(1)).unwrap();
        hub.set_mix(&job, &[plan(1, &[], true), plan(2, &[], false)]);
        for _ in 0..5 {
            hub.tick(now);
        }
        hub.finish(&job);
        let samples: Vec<i16> = hound::WavReader::open(&file)
            .unwrap()
            .samples()
            .map(Result::unwrap)
            .collect();
        assert!(samples.len() >= 8_000 * 24 / 50, "{}", samples.len());
        assert_eq!(
            dominant_tone(&samples[1_600..4_000], 8_000, &[440.0, 1_000.0, MUSIC_HZ]),
            Some(1_000.0),
            "the customer heard the agent"
        );
        assert_eq!(
            dominant_tone(
                &samples[samples.len() - 640..],
                8_000,
                &[440.0, 1_000.0, MUSIC_HZ]
            ),
            Some(MUSIC_HZ),
            "then hold music"
        );
        let recording = hound::WavReader::open(dir.join("job-1.wav")).unwrap();
        assert_eq!(recording.spec().channels, 2);
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
