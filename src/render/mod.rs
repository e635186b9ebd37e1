//! Plan → text | markdown | json. Pure functions: no I/O, no clock, no environment.
