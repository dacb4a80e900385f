//! `core`: how many input-to-events steps per second the agent machine takes, and how
//! many heap allocations a step makes once warm.
//!
//! A step is one input (an agent-link snapshot, a user context, a request or a timer)
//! handed to the machine, then every event and action it produced drained. The steps
//! replay an inbound call's whole life in a loop: ring, answer, talk, hold, retrieve,
//! release, after-call work, timer, ready. Inputs are built before the clock starts,
//! as a shell would have decoded them from the wire.
//!
//! Run: `cargo bench -p ccc-benches --bench core`

use std::hint::black_box;
use std::time::{Duration, Instant};

use ccc_core::config::Config;
use ccc_core::model::{
    AgentSnapshot, CallContext, CallType, ChannelContext, ChannelFlags, ChannelState, UserContext,
    UserState,
};
use ccc_core::{Agent, Input, Operation};
use criterion::{BatchSize, Criterion, Throughput, criterion_group, criterion_main};

#[global_allocator]
static GLOBAL: ccc_benches::CountingAllocator = ccc_benches::CountingAllocator;

/// One step of the call's life.
// Not boxed: freeing a box would add a deallocation to every measured step.
#[allow(clippy::large_enum_variant)]
enum Step {
    Feed(Input),
    Request(Operation),
    /// Let this much time pass and fire the timers.
    Wait(Duration),
}

/// A registered, ready agent and the clock.
struct Bench {
    agent: Agent,
    now: Instant,
}

impl Bench {
    fn new() -> Self {
        let config = Config::builder("ccc-bench", true)
            .build()
            .expect("valid config");
        let mut agent = Agent::new(&config);
        let now = Instant::now();
        agent
            .request(now, Operation::Register)
            .expect("register from -1");
        agent.handle(now, Input::SipRegistered);
        agent.handle(now, Input::UserContext(user(UserState::Ready)));
        let mut bench = Self { agent, now };
        bench.drain();
        bench
    }

    fn run(&mut self, step: Step) {
        match step {
            Step::Feed(input) => self.agent.handle(self.now, input),
            Step::Request(op) => self
                .agent
                .request(self.now, op)
                .expect("allowed in the story"),
            Step::Wait(by) => {
                self.now += by;
                self.agent.handle_timeout(self.now);
            }
        }
        self.drain();
    }

    fn drain(&mut self) {
        while let Some(event) = self.agent.poll_event() {
            black_box(event);
        }
        while let Some(action) = self.agent.poll_action() {
            black_box(action);
        }
    }
}

/// Builds the steps of call lives, with ContextIds rising across every batch.
///
/// With `fresh_strings` every input owns its strings, as a shell that decodes each
/// frame from JSON has them, so a step also pays for freeing the input it replaces.
/// Without, the inputs share their strings (clones of one template), so the figure is
/// the machine's own work.
struct Story {
    next_context_id: i64,
    fresh_strings: bool,
    templates: Vec<(UserState, Option<Vec<ChannelContext>>)>,
}

impl Story {
    fn new(fresh_strings: bool) -> Self {
        let customer = leg(None, ChannelState::Answered, "");
        let me = |state, flags| leg(Some("me"), state, flags);
        let templates = vec![
            (
                UserState::Ringing,
                Some(vec![customer.clone(), me(ChannelState::Ringing, "")]),
            ),
            (
                UserState::Talking,
                Some(vec![customer.clone(), me(ChannelState::Answered, "")]),
            ),
            (
                UserState::Talking,
                Some(vec![customer.clone(), me(ChannelState::Answered, "HOLD")]),
            ),
            (
                UserState::Talking,
                Some(vec![customer, me(ChannelState::Answered, "")]),
            ),
            (UserState::Working, None),
        ];
        Self {
            next_context_id: 0,
            fresh_strings,
            templates,
        }
    }

    fn snapshot(&mut self, i: usize) -> Step {
        self.next_context_id += 1;
        let (state, legs) = &self.templates[i];
        let (user, call) = if self.fresh_strings {
            (
                user(state.clone()),
                legs.as_ref()
                    .map(|legs| call(legs.iter().map(deep_copy).collect())),
            )
        } else {
            (
                shared_user(state.clone()),
                legs.as_ref().map(|legs| call(legs.clone())),
            )
        };
        Step::Feed(Input::Snapshot(AgentSnapshot::new(
            Some(self.next_context_id),
            user,
            call,
        )))
    }

    /// The steps of `calls` call lives, in reverse order (pop them).
    fn steps(&mut self, calls: usize) -> Vec<Step> {
        let mut steps = Vec::with_capacity(calls * 8);
        for _ in 0..calls {
            steps.push(self.snapshot(0));
            steps.push(Step::Request(Operation::Answer));
            for i in 1..5 {
                steps.push(self.snapshot(i));
            }
            steps.push(Step::Wait(Duration::from_secs(15)));
            let ready = if self.fresh_strings {
                user(UserState::Ready)
            } else {
                shared_user(UserState::Ready)
            };
            steps.push(Step::Feed(Input::UserContext(ready)));
        }
        steps.reverse();
        steps
    }
}

/// A copy of `leg` whose strings are its own.
fn deep_copy(leg: &ChannelContext) -> ChannelContext {
    let own = |text: &Option<ccc_core::model::Text>| text.as_deref().map(Into::into);
    let mut copy = leg.clone();
    copy.user_id = own(&leg.user_id);
    copy.channel_id = own(&leg.channel_id);
    copy.originator = own(&leg.originator);
    copy.destination = own(&leg.destination);
    copy.skill_group_id = own(&leg.skill_group_id);
    copy
}

/// A user context whose strings are shared with every other one.
fn shared_user(state: UserState) -> UserContext {
    use std::sync::LazyLock;
    static TEMPLATE: LazyLock<UserContext> = LazyLock::new(|| user(UserState::Ready));
    let mut user = TEMPLATE.clone();
    user.user_state = Some(state);
    user
}

fn user(state: UserState) -> UserContext {
    let mut user = UserContext::default();
    user.user_id = Some("me".into());
    user.extension = Some("8001".into());
    user.user_state = Some(state);
    user.signed_skill_group_id_list = Some(vec!["skg-1@ccc-bench".into()]);
    user
}

fn leg(agent: Option<&str>, state: ChannelState, flags: &str) -> ChannelContext {
    let mut leg = ChannelContext::default();
    leg.user_id = agent.map(Into::into);
    leg.channel_id = Some(
        if agent.is_some() {
            "ch-agent"
        } else {
            "ch-customer"
        }
        .into(),
    );
    leg.call_type = Some(CallType::Inbound);
    leg.channel_state = Some(state);
    leg.channel_flags = ChannelFlags::parse(flags);
    leg.originator = Some("13800000000".into());
    leg.destination = Some("057100000000".into());
    leg.skill_group_id = Some("skg-1@ccc-bench".into());
    leg
}

fn call(legs: Vec<ChannelContext>) -> CallContext {
    let mut call = CallContext::default();
    call.job_id = Some("job-bench".into());
    call.call_type = Some(CallType::Inbound);
    call.call_variables = Some("order=7".into());
    call.channel_contexts = Some(legs);
    call
}

/// Allocations per step over `calls` call lives, after one life to warm up.
fn allocations_per_step(calls: usize) -> f64 {
    let mut story = Story::new(true);
    let mut bench = Bench::new();
    let mut warm_up = story.steps(1);
    while let Some(step) = warm_up.pop() {
        bench.run(step);
    }
    let mut steps = story.steps(calls);
    let count = steps.len();
    let before = ccc_benches::allocations();
    while let Some(step) = steps.pop() {
        bench.run(step);
    }
    let allocations = ccc_benches::allocations() - before;
    #[allow(clippy::cast_precision_loss)]
    {
        allocations as f64 / count as f64
    }
}

fn core(c: &mut Criterion) {
    const CALLS: usize = 125;
    let per_step = allocations_per_step(CALLS);
    println!(
        "core: {per_step} heap allocations per step once warm ({} steps)",
        CALLS * 8
    );

    let mut group = c.benchmark_group("core");
    group.throughput(Throughput::Elements((CALLS * 8) as u64));
    for (name, fresh) in [("steps", false), ("steps_fresh_strings", true)] {
        let mut story = Story::new(fresh);
        let mut bench = Bench::new();
        group.bench_function(name, |b| {
            b.iter_batched(
                || story.steps(CALLS),
                |mut steps| {
                    while let Some(step) = steps.pop() {
                        bench.run(step);
                    }
                },
                BatchSize::LargeInput,
            );
        });
    }
    group.finish();
}

criterion_group!(benches, core);
criterion_main!(benches);
