//! The evaluation thread of an embedded runtime (docs/embedding.md, "Threads
//! and the stack"): `valk_init` starts it with the big stack and the stack
//! limit every engine uses (`host::STACK_SIZE`), and every API call runs on
//! it. A call made on another thread is sent to it as a job and waits for
//! the result; a call made on it (from a C procedure that Valk code called)
//! runs in place.

use std::cell::Cell;
use std::sync::mpsc::{self, Sender};
use std::sync::Mutex;
use valk_runtime::{cont, host, rt};

type Job = Box<dyn FnOnce() + Send + 'static>;

enum State {
    Off,
    Running(Sender<Job>, std::thread::JoinHandle<()>),
    ShutDown,
}

static STATE: Mutex<State> = Mutex::new(State::Off);

thread_local! {
    static ON_EVAL_THREAD: Cell<bool> = const { Cell::new(false) };
}

/// Why a job could not run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NotRunning {
    /// `valk_init` has not been called (or failed).
    NotInitialised,
    /// `valk_shutdown` ended the runtime.
    ShutDown,
}

impl NotRunning {
    pub fn message(self) -> &'static str {
        match self {
            NotRunning::NotInitialised => "the Valk runtime is not initialised (call valk_init)",
            NotRunning::ShutDown => "the Valk runtime has been shut down",
        }
    }
}

fn lock() -> std::sync::MutexGuard<'static, State> {
    // A poisoned lock only means another host thread panicked while
    // holding it; the state itself is always consistent.
    STATE.lock().unwrap_or_else(|e| e.into_inner())
}

/// Is the calling thread the evaluation thread?
pub fn on_eval_thread() -> bool {
    ON_EVAL_THREAD.with(|c| c.get())
}

/// Starts the evaluation thread with a `stack_size`-byte stack.
/// Idempotent while running (`Ok(false)`: already running); an error once
/// shut down.
pub fn start(stack_size: usize) -> Result<bool, String> {
    let mut st = lock();
    match *st {
        State::Running(..) => return Ok(false),
        State::ShutDown => {
            return Err("valk_init: the runtime was shut down and cannot be restarted".into())
        }
        State::Off => {}
    }
    let (tx, rx) = mpsc::channel::<Job>();
    // Room for the driver's reserve above the control stack and for the
    // margin below the limit (`cont::set_control_base`).
    let stack_size = stack_size.max(2 * cont::DRIVER_RESERVE);
    let thread = std::thread::Builder::new()
        .name("valk".into())
        .stack_size(stack_size)
        .spawn(move || {
            // As `host::run_on_evaluation_thread` does for the binaries:
            // arm the stack limit and the control stack's base here, once.
            let marker = 0u8;
            let top = &marker as *const u8 as usize;
            rt::set_stack_limit(top.saturating_sub(stack_size - host::STACK_MARGIN));
            cont::set_control_base(top);
            ON_EVAL_THREAD.with(|c| c.set(true));
            while let Ok(job) = rx.recv() {
                job();
            }
        })
        .map_err(|e| format!("valk_init: cannot start the evaluation thread: {e}"))?;
    *st = State::Running(tx, thread);
    Ok(true)
}

/// Runs `f` on the evaluation thread and returns its result.
pub fn run<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> Result<T, NotRunning> {
    if on_eval_thread() {
        return Ok(f());
    }
    let tx = match &*lock() {
        State::Running(tx, _) => tx.clone(),
        State::Off => return Err(NotRunning::NotInitialised),
        State::ShutDown => return Err(NotRunning::ShutDown),
    };
    let (rtx, rrx) = mpsc::sync_channel(1);
    let job: Job = Box::new(move || {
        let _ = rtx.send(f());
    });
    tx.send(job).map_err(|_| NotRunning::ShutDown)?;
    rrx.recv().map_err(|_| NotRunning::ShutDown)
}

/// Sends `f` to the evaluation thread without waiting (releasing handles
/// from other threads); dropped when the runtime is not running.
pub fn post(f: impl FnOnce() + Send + 'static) {
    if on_eval_thread() {
        f();
        return;
    }
    if let State::Running(tx, _) = &*lock() {
        let _ = tx.send(Box::new(f));
    }
}

/// Runs `last` on the evaluation thread, then stops it and waits for it
/// to end. Called on the evaluation thread itself (from a C procedure) it
/// only runs `last` and marks the runtime shut down: the thread ends when
/// the current API call returns.
pub fn stop(last: impl FnOnce() + Send + 'static) {
    if on_eval_thread() {
        last();
        // The sender is dropped: the job loop ends after this job.
        *lock() = State::ShutDown;
        return;
    }
    let _ = run(last);
    let old = std::mem::replace(&mut *lock(), State::ShutDown);
    if let State::Running(tx, thread) = old {
        drop(tx);
        let _ = thread.join();
    }
}
