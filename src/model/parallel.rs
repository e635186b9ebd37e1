//! Work spread over the machine's cores, results in the order of the input: the
//! configuration's files are parsed this way, and `report` blames its files so.

use std::sync::atomic::{AtomicUsize, Ordering};

/// `f` of every item on up to `max_workers` scoped threads (at most the cores, at most the
/// items), each taking the next item as it is free; the results in the items' order. One
/// worker (or one item) runs on the calling thread. A panic in `f` is resumed here.
pub fn map_in_order<T: Sync, R: Send>(
    items: &[T],
    max_workers: usize,
    f: impl Fn(&T) -> R + Sync,
) -> Vec<R> {
    let workers = std::thread::available_parallelism()
        .map_or(1, usize::from)
        .min(max_workers)
        .min(items.len());
    if workers <= 1 {
        return items.iter().map(f).collect();
    }
    let next = AtomicUsize::new(0);
    let mut done: Vec<(usize, R)> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..workers)
            .map(|_| {
                scope.spawn(|| {
                    let mut mine = Vec::new();
                    loop {
                        let i = next.fetch_add(1, Ordering::Relaxed);
                        let Some(item) = items.get(i) else { break };
                        mine.push((i, f(item)));
                    }
                    mine
                })
            })
            .collect();
        handles
            .into_iter()
            .flat_map(|h| h.join().unwrap_or_else(|p| std::panic::resume_unwind(p)))
            .collect()
    });
    done.sort_by_key(|(i, _)| *i);
    done.into_iter().map(|(_, r)| r).collect()
}

#[cfg(test)]
mod tests {
    #[test]
    fn results_keep_the_items_order() {
        let items: Vec<u64> = (0..100).collect();
        let out = super::map_in_order(&items, 4, |n| n * 2);
        assert_eq!(out, items.iter().map(|n| n * 2).collect::<Vec<_>>());
        assert!(super::map_in_order(&[] as &[u64], 4, |n| *n).is_empty());
    }
}
