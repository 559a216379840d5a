//! A fixed set of threads for argon2 work. A hash costs tens of milliseconds of CPU and ~19 MiB: run on
//! the async workers it stalls every other request, and run on tokio's elastic blocking pool each new
//! thread gets its own malloc arena that keeps a freed 19 MiB block (measured: 426 MiB resident after
//! a login burst). One long-lived thread per core bounds both the concurrency and the memory.

use std::sync::{Arc, Mutex, mpsc};

use tokio::sync::oneshot;

type Job = Box<dyn FnOnce() + Send>;

#[derive(Debug)]
pub struct PasswordPool {
    jobs: Mutex<mpsc::Sender<Job>>,
}

#[derive(Debug, thiserror::Error)]
#[error("the password hashing threads are gone")]
pub struct PoolClosed;

impl PasswordPool {
    /// Starts `threads` workers (at least one); they live as long as the pool.
    pub fn new(threads: usize) -> Self {
        let (sender, receiver) = mpsc::channel::<Job>();
        let receiver = Arc::new(Mutex::new(receiver));
        for index in 0..threads.max(1) {
            let receiver = Arc::clone(&receiver);
            let spawned = std::thread::Builder::new()
                .name(format!("warden-argon2-{index}"))
                .spawn(move || {
                    loop {
                        let job = match receiver.lock() {
                            Ok(guard) => guard.recv(),
                            Err(_) => return,
                        };
                        match job {
                            Ok(job) => job(),
                            Err(_) => return,
                        }
                    }
                });
            if let Err(error) = spawned {
                tracing::error!(%error, "cannot start a password hashing thread");
            }
        }
        PasswordPool {
            jobs: Mutex::new(sender),
        }
    }

    /// Runs `work` on a pool thread and waits for its result without blocking the async runtime.
    pub async fn run<T: Send + 'static>(&self, work: impl FnOnce() -> T + Send + 'static) -> Result<T, PoolClosed> {
        let (reply, answer) = oneshot::channel();
        let job: Job = Box::new(move || {
            let _ = reply.send(work());
        });
        self.jobs
            .lock()
            .map_err(|_| PoolClosed)?
            .send(job)
            .map_err(|_| PoolClosed)?;
        answer.await.map_err(|_| PoolClosed)
    }
}
