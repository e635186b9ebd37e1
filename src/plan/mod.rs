//! diff(desired, live) → Plan; safety checks; the saved-plan file and its fingerprints.
