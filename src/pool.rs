//! A small thread pool: `each()` runs a function over many items on every core, in order.

use crate::error::Error;

/// `f` of every item, in order. A run with many items (`-c DIR`) uses every core: the threads
/// take small batches from a shared counter until none are left, so a slow stretch of configs
/// does not leave a core idle, and the results (the first error included) are those of one
/// thread going through the items in order.
pub(crate) fn each<I: Sync, T: Send>(
    items: &[I],
    f: impl Fn(&I) -> Result<T, Error> + Sync,
) -> Result<Vec<T>, Error> {
    use std::sync::atomic::{AtomicUsize, Ordering};
    const BATCH: usize = 8;
    if items.len() < 4 * BATCH {
        // Asking for the parallelism reads cgroup files: not worth it for a few configs.
        return items.iter().map(&f).collect();
    }
    let threads = std::thread::available_parallelism().map_or(1, std::num::NonZero::get);
    if threads == 1 {
        return items.iter().map(&f).collect();
    }
    let next = AtomicUsize::new(0);
    let work = || {
        let mut done = Vec::new();
        loop {
            let start = next.fetch_add(BATCH, Ordering::Relaxed);
            if start >= items.len() {
                return done;
            }
            let end = (start + BATCH).min(items.len());
            done.extend((start..end).map(|i| (i, f(&items[i]))));
        }
    };
    let batches: Vec<Vec<(usize, Result<T, Error>)>> = std::thread::scope(|scope| {
        let helpers: Vec<_> = (1..threads).map(|_| scope.spawn(work)).collect();
        let mut batches = vec![work()];
        for helper in helpers {
            batches.push(
                helper
                    .join()
                    .unwrap_or_else(|panic| std::panic::resume_unwind(panic)),
            );
        }
        batches
    });
    let mut slots: Vec<Option<Result<T, Error>>> =
        std::iter::repeat_with(|| None).take(items.len()).collect();
    for (i, result) in batches.into_iter().flatten() {
        slots[i] = Some(result);
    }
    slots
        .into_iter()
        .map(|slot| slot.unwrap_or_else(|| Err(Error::Bug("a config was not rendered".into()))))
        .collect()
}
