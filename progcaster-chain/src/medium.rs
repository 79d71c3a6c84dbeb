//! The progress medium: timely's `--progress-medium` option and the `TIMELY_PROGRESS_MEDIUM`
//! override.

use std::fmt;
use std::str::FromStr;
use std::sync::OnceLock;

/// The environment variable that, when set, overrides the configured progress medium.
pub const MEDIUM_VAR: &str = "TIMELY_PROGRESS_MEDIUM";

/// timely's command-line option that selects the progress medium.
pub const MEDIUM_OPTION: &str = "--progress-medium";

/// Which medium carries progress updates among a process's workers (and, with
/// [`Medium::Aggregate`], between processes).
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub enum Medium {
    /// One chain per progress channel, shared by the process's workers (the default).
    #[default]
    Chain,
    /// timely's own MPSC broadcast.
    Stock,
    /// A chain per progress channel, as [`Medium::Chain`], and across processes one stream
    /// per process pair: the net change of a prefix of the chain since the last forward,
    /// numbered, instead of every worker's every batch. A process of one worker has nothing
    /// to consolidate: it keeps timely's channels and sends each batch as its process's next
    /// delta. Every process of a computation must use it, or none.
    Aggregate,
}

impl Medium {
    /// Parses the value of [`MEDIUM_VAR`]; `None` (unset) selects [`Medium::Chain`].
    ///
    /// # Examples
    /// ```
    /// use progcaster_chain::Medium;
    /// assert_eq!(Medium::parse(None), Ok(Medium::Chain));
    /// assert_eq!(Medium::parse(Some("stock")), Ok(Medium::Stock));
    /// assert_eq!(Medium::parse(Some("aggregate")), Ok(Medium::Aggregate));
    /// assert!(Medium::parse(Some("mpsc")).unwrap_err().to_string().contains("`chain`"));
    /// ```
    pub fn parse(value: Option<&str>) -> Result<Medium, MediumError> {
        value.map_or(Ok(Medium::Chain), |value| Medium::named(value, MEDIUM_VAR))
    }

    /// The medium called `value`, or an error that says `source` gave an invalid value.
    fn named(value: &str, source: &'static str) -> Result<Medium, MediumError> {
        match value {
            "chain" => Ok(Medium::Chain),
            "stock" => Ok(Medium::Stock),
            "aggregate" => Ok(Medium::Aggregate),
            other => Err(MediumError {
                source,
                value: other.to_string(),
            }),
        }
    }
}

/// Parses the value of timely's [`MEDIUM_OPTION`].
///
/// # Examples
/// ```
/// use progcaster_chain::Medium;
/// assert_eq!("stock".parse(), Ok(Medium::Stock));
/// assert_eq!(
///     "x".parse::<Medium>().unwrap_err().to_string(),
///     "invalid --progress-medium=\"x\": valid values are `chain`, `stock` and `aggregate`"
/// );
/// ```
impl FromStr for Medium {
    type Err = MediumError;

    fn from_str(value: &str) -> Result<Medium, MediumError> {
        Medium::named(value, MEDIUM_OPTION)
    }
}

/// An invalid progress medium, and where it came from ([`MEDIUM_VAR`] or [`MEDIUM_OPTION`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MediumError {
    source: &'static str,
    value: String,
}

impl fmt::Display for MediumError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "invalid {}={:?}: valid values are `chain`, `stock` and `aggregate`",
            self.source, self.value
        )
    }
}

impl std::error::Error for MediumError {}

/// The [`MEDIUM_VAR`] override of this process, read on first call: `None` when unset.
///
/// The variable is read once; later changes to the environment have no effect. A value that
/// is not valid Unicode is reported as invalid, like any other unknown value.
pub fn medium_override() -> Result<Option<Medium>, MediumError> {
    static MEDIUM: OnceLock<Result<Option<Medium>, MediumError>> = OnceLock::new();
    MEDIUM
        .get_or_init(|| match std::env::var_os(MEDIUM_VAR) {
            None => Ok(None),
            Some(value) => Medium::parse(Some(&value.to_string_lossy())).map(Some),
        })
        .clone()
}

/// The medium of a process whose configuration leaves the default: the [`MEDIUM_VAR`]
/// override if set, else [`Medium::Chain`].
pub fn medium() -> Result<Medium, MediumError> {
    medium_override().map(Option::unwrap_or_default)
}
