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
    no_huge_pages();
    return_freed_memory_at_once();
    teamsync::cli::main()
}

/// Transparent huge pages off for this process (Linux). mimalloc reserves its memory as
/// one large arena and asks for huge pages on it, and one 2 MiB huge page is resident as
/// soon as any of its 4 KiB is touched: at the peak of a 20,000-person apply, 28 MB of the
/// RSS was huge pages over a heap that is mostly small objects (docs/performance.md). The
/// flag covers both kernel modes, THP on request (`madvise`, which the `no_thp` feature of
/// libmimalloc-sys also stops mimalloc from making) and THP everywhere (`always`).
#[cfg(target_os = "linux")]
fn no_huge_pages() {
    // SAFETY: PR_SET_THP_DISABLE only sets a flag on this process's memory. Its result is
    // not needed: a kernel without it leaves the pages as they were.
    unsafe {
        libc::prctl(libc::PR_SET_THP_DISABLE, 1, 0, 0, 0);
    }
}

#[cfg(not(target_os = "linux"))]
fn no_huge_pages() {}

/// The index of `mi_option_purge_delay` in `mi_option_e` of the mimalloc 2 that
/// libmimalloc-sys 0.1.49 bundles (`include/mimalloc.h`). The version is pinned in
/// Cargo.toml, and a test checks the index still holds that option's default.
#[cfg(not(feature = "heap-profile"))]
const PURGE_DELAY: libmimalloc_sys::mi_option_t = 15;

/// teamsync allocates in bursts (a configuration, then pages of members) and then waits on
/// the network: what it frees is given back to the system at once (mimalloc's default
/// waits 10 ms, by which time the next burst has taken more).
#[cfg(feature = "heap-profile")]
fn return_freed_memory_at_once() {}

#[cfg(not(feature = "heap-profile"))]
fn return_freed_memory_at_once() {
    // SAFETY: mi_option_set only stores an option's value; the index is an option of the
    // pinned mimalloc, and 0 is a valid purge delay ("immediately").
    unsafe {
        libmimalloc_sys::mi_option_set(PURGE_DELAY, 0);
    }
}

#[cfg(all(test, target_os = "linux"))]
mod huge_pages {
    /// The flag is set once `main` has called it (the test process is this crate's binary
    /// built as a test, so the call is made here).
    #[test]
    fn huge_pages_are_off_for_the_process() {
        super::no_huge_pages();
        // SAFETY: PR_GET_THP_DISABLE only reads the flag.
        let disabled = unsafe { libc::prctl(libc::PR_GET_THP_DISABLE, 0, 0, 0, 0) };
        assert_eq!(disabled, 1);
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
}
