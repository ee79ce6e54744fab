//! MOSIP SBI client.
