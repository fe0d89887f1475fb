//! Test support: a tiny single-threaded executor that polls woken tasks
//! until nothing more can move, for driving the async driver on a
//! `VirtualClock`.

use std::cell::RefCell;
use std::collections::VecDeque;
use std::future::Future;
use std::pin::Pin;
use std::rc::Rc;
use std::sync::{Arc, Mutex};
use std::task::{Context, Wake, Waker};

type Task = Pin<Box<dyn Future<Output = ()>>>;

struct Wakeup {
    id: usize,
    queue: Arc<Mutex<VecDeque<usize>>>,
}

impl Wake for Wakeup {
    fn wake(self: Arc<Self>) {
        self.queue.lock().unwrap().push_back(self.id);
    }
}

/// Runs spawned futures whenever `settle` is called.
#[derive(Clone, Default)]
pub struct Executor {
    tasks: Rc<RefCell<Vec<Option<Task>>>>,
    queue: Arc<Mutex<VecDeque<usize>>>,
}

impl Executor {
    /// Spawns `fut` and polls it once; returns a cell that receives its output.
    pub fn spawn<T: 'static>(&self, fut: impl Future<Output = T> + 'static) -> Rc<RefCell<Option<T>>> {
        let out = Rc::new(RefCell::new(None));
        let slot = out.clone();
        let id = {
            let mut tasks = self.tasks.borrow_mut();
            tasks.push(Some(Box::pin(async move {
                *slot.borrow_mut() = Some(fut.await);
            })));
            tasks.len() - 1
        };
        self.queue.lock().unwrap().push_back(id);
        self.settle();
        out
    }

    /// Drops a task (as a caller that gives up would).
    pub fn cancel(&self, index: usize) {
        let task = self.tasks.borrow_mut()[index].take();
        drop(task);
    }

    /// Polls woken tasks until none is woken.
    pub fn settle(&self) {
        loop {
            let next = self.queue.lock().unwrap().pop_front();
            let Some(id) = next else { break };
            let task = self.tasks.borrow_mut()[id].take();
            let Some(mut task) = task else { continue };
            let waker = Waker::from(Arc::new(Wakeup { id, queue: self.queue.clone() }));
            if task.as_mut().poll(&mut Context::from_waker(&waker)).is_pending() {
                self.tasks.borrow_mut()[id] = Some(task);
            }
        }
    }
}
