//! The floor: no async runtime at all. A dedicated std thread runs boxed
//! closures received over `std::sync::mpsc`, and each call gets its reply
//! over a channel of its own. Anything crochet does on top of handing work
//! to another thread and waiting for the answer shows against it.

use std::io;
use std::sync::mpsc;
use std::thread::{self, JoinHandle};

use super::RoundTrip;

type Job = Box<dyn FnOnce() + Send>;

pub(crate) struct Floor {
    jobs: Option<mpsc::Sender<Job>>,
    thread: Option<JoinHandle<()>>,
}

impl Floor {
    pub(crate) fn start() -> io::Result<Floor> {
        let (jobs, inbox) = mpsc::channel::<Job>();
        let thread = thread::Builder::new()
            .name("floor".to_owned())
            .spawn(move || {
                for job in inbox {
                    job();
                }
            })?;
        Ok(Floor {
            jobs: Some(jobs),
            thread: Some(thread),
        })
    }
}

impl Drop for Floor {
    fn drop(&mut self) {
        drop(self.jobs.take());
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

impl RoundTrip for Floor {
    fn round_trip(&self) {
        let (reply, answer) = mpsc::sync_channel(1);
        self.jobs
            .as_ref()
            .expect("the floor thread runs until dropped")
            .send(Box::new(move || {
                let _ = reply.send(());
            }))
            .expect("the floor thread is gone");
        answer.recv().expect("the floor thread dropped a reply");
    }
}
