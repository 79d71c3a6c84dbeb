//! Order statistics over a run's samples.

/// The `q`-quantile (`0.0 ..= 1.0`) of `sorted`, by the nearest-rank method; `NaN` if empty.
///
/// # Examples
///
/// ```
/// let xs = [1.0, 2.0, 3.0, 4.0];
/// assert_eq!(examples::percentile(&xs, 0.5), 2.0);
/// assert_eq!(examples::percentile(&xs, 1.0), 4.0);
/// assert_eq!(examples::percentile(&xs, 0.0), 1.0);
/// ```
pub fn percentile(sorted: &[f64], q: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let rank = (q.clamp(0.0, 1.0) * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

/// Median, 99th percentile and maximum of a sample, plus its sum.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Summary {
    /// Number of samples.
    pub count: usize,
    /// The median.
    pub p50: f64,
    /// The 99th percentile.
    pub p99: f64,
    /// The largest sample.
    pub max: f64,
    /// The sum of all samples.
    pub total: f64,
}

impl Summary {
    /// Summarizes `samples` (in any order).
    ///
    /// # Examples
    ///
    /// ```
    /// let s = examples::Summary::of(&[3.0, 1.0, 2.0]);
    /// assert_eq!((s.count, s.p50, s.max, s.total), (3, 2.0, 3.0, 6.0));
    /// ```
    pub fn of(samples: &[f64]) -> Summary {
        let mut sorted = samples.to_vec();
        sorted.sort_by(f64::total_cmp);
        Summary {
            count: sorted.len(),
            p50: percentile(&sorted, 0.5),
            p99: percentile(&sorted, 0.99),
            max: sorted.last().copied().unwrap_or(f64::NAN),
            total: sorted.iter().sum(),
        }
    }
}
