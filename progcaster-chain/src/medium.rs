//! The `TIMELY_PROGRESS_MEDIUM` runtime override.

use std::fmt;
use std::sync::OnceLock;

/// The environment variable that selects the progress medium at startup.
pub const MEDIUM_VAR: &str = "TIMELY_PROGRESS_MEDIUM";

/// Which medium carries intra-process progress updates.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Medium {
    /// One chain per progress channel, shared by the process's workers (the default).
    Chain,
    /// timely's own MPSC broadcast.
    Stock,
}

impl Medium {
    /// Parses the value of [`MEDIUM_VAR`]; `None` (unset) selects [`Medium::Chain`].
    ///
    /// # Examples
    /// ```
    /// use progcaster_chain::Medium;
    /// assert_eq!(Medium::parse(None), Ok(Medium::Chain));
    /// assert_eq!(Medium::parse(Some("stock")), Ok(Medium::Stock));
    /// assert!(Medium::parse(Some("mpsc")).unwrap_err().to_string().contains("`chain`"));
    /// ```
    pub fn parse(value: Option<&str>) -> Result<Medium, MediumError> {
        match value {
            None | Some("chain") => Ok(Medium::Chain),
            Some("stock") => Ok(Medium::Stock),
            Some(other) => Err(MediumError {
                value: other.to_string(),
            }),
        }
    }
}

/// An invalid value of [`MEDIUM_VAR`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MediumError {
    value: String,
}

impl fmt::Display for MediumError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "invalid {MEDIUM_VAR}={:?}: valid values are `chain` and `stock`",
            self.value
        )
    }
}

impl std::error::Error for MediumError {}

/// The progress medium of this process, read from [`MEDIUM_VAR`] on first call.
///
/// The variable is read once; later changes to the environment have no effect. A value that
/// is not valid Unicode is reported as invalid, like any other unknown value.
pub fn medium() -> Result<Medium, MediumError> {
    static MEDIUM: OnceLock<Result<Medium, MediumError>> = OnceLock::new();
    MEDIUM
        .get_or_init(|| match std::env::var_os(MEDIUM_VAR) {
            None => Ok(Medium::Chain),
            Some(value) => Medium::parse(Some(&value.to_string_lossy())),
        })
        .clone()
}
