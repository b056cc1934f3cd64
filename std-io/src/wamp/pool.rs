//! A fixed pool of worker threads for event and invocation handlers, so a slow handler does
//! not stall the session's reader.

use std::sync::mpsc;
use std::sync::{Arc, Mutex};

type Job = Box<dyn FnOnce() + Send>;

/// Runs jobs on `n` threads; dropping the pool lets the threads finish what is queued.
pub(crate) struct Pool {
    tx: Mutex<Option<mpsc::Sender<Job>>>,
}

impl Pool {
    pub(crate) fn new(n: usize) -> Self {
        let (tx, rx) = mpsc::channel::<Job>();
        let rx = Arc::new(Mutex::new(rx));
        for i in 0..n.max(1) {
            let rx = Arc::clone(&rx);
            let _ = std::thread::Builder::new()
                .name(format!("wamp-worker-{i}"))
                .spawn(move || loop {
                    let job = match rx.lock() {
                        Ok(r) => r.recv(),
                        Err(_) => return,
                    };
                    match job {
                        Ok(job) => job(),
                        Err(_) => return,
                    }
                });
        }
        Self {
            tx: Mutex::new(Some(tx)),
        }
    }

    pub(crate) fn run(&self, job: impl FnOnce() + Send + 'static) {
        if let Some(tx) = self.tx.lock().unwrap_or_else(|p| p.into_inner()).as_ref() {
            let _ = tx.send(Box::new(job));
        }
    }

    /// Stops taking jobs; the workers end once the queue is empty.
    pub(crate) fn shutdown(&self) {
        self.tx.lock().unwrap_or_else(|p| p.into_inner()).take();
    }
}
