//! The binary: parse arguments, run, map the one top-level outcome to an exit code.

use std::process::ExitCode;

/// mimalloc (its 2.x line) rather than the C library's allocator: glibc kept about half of
/// a 20,000-person plan's peak RSS as freed memory in its arenas (130 MB against a 61 MB
/// heap, even capped at two arenas), and the release builds are static musl binaries,
/// whose allocator is slow. Figures in docs/performance.md.
///
/// `--features heap-profile` builds with the C library's allocator instead, which heap
/// profilers (heaptrack) see; mimalloc's allocations bypass them (docs/performance.md).
#[cfg(not(feature = "heap-profile"))]
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    return_freed_memory_at_once();
    teamsync::cli::main()
}

/// The indexes of `mi_option_purge_delay` and `mi_option_arena_eager_commit` in
/// `mi_option_e` of the mimalloc 2 that libmimalloc-sys 0.1.49 bundles
/// (`include/mimalloc.h`). The version is pinned in Cargo.toml, and a test checks each index
/// still holds that option's default.
#[cfg(not(feature = "heap-profile"))]
const PURGE_DELAY: libmimalloc_sys::mi_option_t = 15;
#[cfg(not(feature = "heap-profile"))]
const ARENA_EAGER_COMMIT: libmimalloc_sys::mi_option_t = 4;

/// teamsync allocates in bursts (a configuration, then pages of members) and then waits on
/// the network: what it frees is given back to the system at once (mimalloc's default
/// waits 10 ms, by which time the next burst has taken more), and its arena's memory is
/// committed as it is used rather than up front (mimalloc's default on Linux), which kept a
/// 20,000-person apply's peak RSS about 4 MB higher (docs/performance.md).
#[cfg(feature = "heap-profile")]
fn return_freed_memory_at_once() {}

#[cfg(not(feature = "heap-profile"))]
fn return_freed_memory_at_once() {
    // SAFETY: mi_option_set only stores an option's value; each index is an option of the
    // pinned mimalloc, and 0 is a valid value of both (purge "immediately"; commit arenas
    // "on demand").
    unsafe {
        libmimalloc_sys::mi_option_set(PURGE_DELAY, 0);
        libmimalloc_sys::mi_option_set(ARENA_EAGER_COMMIT, 0);
    }
}

#[cfg(all(test, not(feature = "heap-profile")))]
mod tests {
    use super::*;

    /// The index names the option meant: it holds the purge delay's documented default
    /// (10 ms, `src/options.c`) until set. A mimalloc whose enum moved fails here instead
    /// of silently setting another option.
    #[test]
    fn purge_delay_index_holds_its_documented_default() {
        // SAFETY: mi_option_get only reads an option's value.
        let delay = unsafe { libmimalloc_sys::mi_option_get(PURGE_DELAY) };
        assert_eq!(delay, 10);
    }

    /// Likewise for the arena's eager commit: 2 ("on systems that overcommit") until set.
    #[test]
    fn arena_eager_commit_index_holds_its_documented_default() {
        // SAFETY: mi_option_get only reads an option's value.
        let eager = unsafe { libmimalloc_sys::mi_option_get(ARENA_EAGER_COMMIT) };
        assert_eq!(eager, 2);
    }
}
