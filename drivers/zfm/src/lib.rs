//! ZhianTec serial fingerprint modules.
