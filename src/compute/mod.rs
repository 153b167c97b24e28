//! All Burn code: backends, device discovery, the self-test and the bench workloads.
