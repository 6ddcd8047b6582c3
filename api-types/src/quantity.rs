//! Resource quantities (`100m`, `1Gi`, `1e3`): parsing, comparison, canonical form.
//!
//! A quantity is held exactly as `mantissa * 10^scale` (never as a float), rounded up to
//! nano precision the way upstream does, and remembers which suffix family the user wrote
//! (decimal SI, binary SI or decimal exponent) so that it prints back in that family.

use std::cmp::Ordering;
use std::fmt;
use std::str::FromStr;

/// The text upstream quotes when a quantity does not parse.
pub const QUANTITY_REGEX: &str = "^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$";

/// The finest scale a quantity keeps: values are rounded up to whole nano units.
const MIN_SCALE: i32 = -9;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum QuantityError {
    #[error("quantities must match the regular expression '{QUANTITY_REGEX}'")]
    FormatWrong,
    #[error("unable to parse numeric part of quantity")]
    Numeric,
    #[error("unable to parse quantity's suffix")]
    Suffix,
}

/// The suffix family a quantity prints in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Format {
    /// `m`, `k`, `M`, `G`... (powers of 1000).
    DecimalSI,
    /// `Ki`, `Mi`, `Gi`... (powers of 1024).
    BinarySI,
    /// `e3`, `E-3`... (powers of ten).
    DecimalExponent,
}

/// An exact resource quantity. Equality and ordering are numeric (`1000m == 1`, `1Gi > 1G`),
/// whatever format each side was written in.
#[derive(Debug, Clone, Copy)]
pub struct Quantity {
    /// Normalized: no trailing decimal zeros (they live in `scale`); zero is `0 * 10^0`.
    mantissa: i128,
    /// Never below `MIN_SCALE`.
    scale: i32,
    format: Format,
}

const DECIMAL_SUFFIXES: &[(&str, i32)] = &[
    ("n", -9),
    ("u", -6),
    ("m", -3),
    ("", 0),
    ("k", 3),
    ("M", 6),
    ("G", 9),
    ("T", 12),
    ("P", 15),
    ("E", 18),
];

const BINARY_SUFFIXES: &[&str] = &["", "Ki", "Mi", "Gi", "Ti", "Pi", "Ei"];

/// Binary quantities are capped here, as upstream caps them (the largest int64).
const BINARY_MAX: i128 = i64::MAX as i128;

fn pow10(exp: u32) -> Option<i128> {
    10i128.checked_pow(exp)
}

/// Splits `s` into sign, integer digits, fraction digits and suffix, following upstream's
/// scanner: an optional sign, digits with at most one dot, then suffix letters, an optional
/// exponent sign and exponent digits.
fn split(s: &str) -> Result<(bool, &str, &str, &str), QuantityError> {
    let b = s.as_bytes();
    let mut pos = 0;
    let negative = match b.first() {
        Some(b'-') => {
            pos = 1;
            true
        }
        Some(b'+') => {
            pos = 1;
            false
        }
        _ => false,
    };
    let int_start = pos;
    while pos < b.len() && b[pos].is_ascii_digit() {
        pos += 1;
    }
    let int_part = &s[int_start..pos];
    let mut frac_part = "";
    if pos < b.len() && b[pos] == b'.' {
        pos += 1;
        let frac_start = pos;
        while pos < b.len() && b[pos].is_ascii_digit() {
            pos += 1;
        }
        frac_part = &s[frac_start..pos];
    }
    // The regex requires at least one of `[0-9.]` before the suffix.
    if pos == int_start {
        return Err(QuantityError::FormatWrong);
    }
    let suffix_start = pos;
    while pos < b.len() && b"eEinumkKMGTP".contains(&b[pos]) {
        pos += 1;
    }
    if pos < b.len() && (b[pos] == b'-' || b[pos] == b'+') {
        pos += 1;
    }
    while pos < b.len() && b[pos].is_ascii_digit() {
        pos += 1;
    }
    if pos != b.len() {
        return Err(QuantityError::FormatWrong);
    }
    Ok((negative, int_part, frac_part, &s[suffix_start..]))
}

/// Interprets a suffix as (base, exponent, format): base 10 exponents are powers of ten,
/// base 2 exponents are powers of two.
fn interpret_suffix(suffix: &str) -> Option<(u32, i32, Format)> {
    if let Some((_, exp)) = DECIMAL_SUFFIXES.iter().find(|(s, _)| *s == suffix) {
        return Some((10, *exp, Format::DecimalSI));
    }
    if let Some(i) = BINARY_SUFFIXES.iter().skip(1).position(|s| *s == suffix) {
        return Some((2, 10 * (i as i32 + 1), Format::BinarySI));
    }
    let rest = suffix
        .strip_prefix('e')
        .or_else(|| suffix.strip_prefix('E'))?;
    if rest.is_empty() {
        return None;
    }
    rest.parse::<i32>()
        .ok()
        .map(|exp| (10, exp, Format::DecimalExponent))
}

/// Parses a digit string (no sign) into a magnitude, or `None` when it does not fit.
fn parse_digits(digits: &str) -> Option<i128> {
    if digits.is_empty() {
        return Some(0);
    }
    digits.parse::<i128>().ok()
}

/// Divides rounding away from zero (upstream rounds quantities "up" in magnitude).
fn div_away(n: i128, d: i128) -> i128 {
    let q = n / d;
    if n % d != 0 {
        q + n.signum()
    } else {
        q
    }
}

impl Quantity {
    /// Parses a quantity as upstream's `resource.ParseQuantity` does.
    pub fn parse(s: &str) -> Result<Quantity, QuantityError> {
        if s.is_empty() {
            return Err(QuantityError::FormatWrong);
        }
        let (negative, int_part, frac_part, suffix) = split(s)?;
        let (base, exponent, format) = interpret_suffix(suffix).ok_or(QuantityError::Suffix)?;

        // Work on the digit string `int_part frac_part` with an implied decimal scale.
        let mut digits = format!("{int_part}{frac_part}");
        let mut scale: i64 = -(frac_part.len() as i64);
        let trimmed = digits.trim_start_matches('0').len();
        digits.drain(..digits.len() - trimmed);
        while digits.ends_with('0') {
            digits.pop();
            scale += 1;
        }
        if digits.is_empty() {
            return Ok(Quantity::zero_with(format));
        }

        let mut magnitude: i128;
        if base == 10 {
            scale += i64::from(exponent);
            if scale < i64::from(MIN_SCALE) {
                // Digits finer than a nano only decide whether to round up (they are
                // non-zero, since trailing zeros were stripped).
                let drop = (i64::from(MIN_SCALE) - scale) as usize;
                if drop >= digits.len() {
                    magnitude = 1;
                } else {
                    digits.truncate(digits.len() - drop);
                    magnitude = parse_digits(&digits).ok_or(QuantityError::Numeric)? + 1;
                }
                scale = i64::from(MIN_SCALE);
            } else {
                magnitude = parse_digits(&digits).ok_or(QuantityError::Numeric)?;
            }
            if scale > i64::from(i32::MAX) {
                return Err(QuantityError::Numeric);
            }
        } else {
            // An integer part beyond i128 is far past the binary cap; anything else that does
            // not fit is a fraction with more than 38 significant digits.
            let n = match parse_digits(&digits) {
                Some(n) => Some(n),
                None if int_part.trim_start_matches('0').len() > 19 => None,
                None => return Err(QuantityError::Numeric),
            };
            let factor = 1i128 << exponent;
            match n.and_then(|n| n.checked_mul(factor)) {
                None => {
                    magnitude = BINARY_MAX;
                    scale = 0;
                }
                Some(v) => {
                    magnitude = v;
                    if scale < i64::from(MIN_SCALE) {
                        // A divisor beyond i128 exceeds the value: what is left rounds up to 1n.
                        magnitude = match pow10((i64::from(MIN_SCALE) - scale) as u32) {
                            Some(d) => div_away(magnitude, d),
                            None => 1,
                        };
                        scale = i64::from(MIN_SCALE);
                    }
                }
            }
        }
        let mut q = Quantity {
            mantissa: if negative { -magnitude } else { magnitude },
            scale: scale as i32,
            format,
        }
        .normalized();
        if format == Format::BinarySI && q.cmp_magnitude_with_int(BINARY_MAX) == Ordering::Greater {
            q.mantissa = q.mantissa.signum() * BINARY_MAX;
            q.scale = 0;
            q = q.normalized();
        }
        Ok(q)
    }

    /// Zero in the decimal SI format.
    pub fn zero() -> Quantity {
        Quantity::zero_with(Format::DecimalSI)
    }

    fn zero_with(format: Format) -> Quantity {
        Quantity {
            mantissa: 0,
            scale: 0,
            format,
        }
    }

    /// A whole number of units, e.g. `Quantity::new(2, Format::DecimalSI)` is `2`.
    pub fn new(value: i64, format: Format) -> Quantity {
        Quantity {
            mantissa: i128::from(value),
            scale: 0,
            format,
        }
        .normalized()
    }

    /// A number of thousandths, e.g. `Quantity::from_milli(250, Format::DecimalSI)` is `250m`.
    pub fn from_milli(milli: i64, format: Format) -> Quantity {
        Quantity {
            mantissa: i128::from(milli),
            scale: -3,
            format,
        }
        .normalized()
    }

    /// `mantissa * 10^scale`, rounded up to nano precision like a parsed quantity.
    pub fn from_scaled(mantissa: i128, scale: i32, format: Format) -> Quantity {
        let (mantissa, scale) = if scale < MIN_SCALE {
            match pow10((MIN_SCALE - scale) as u32) {
                Some(d) => (div_away(mantissa, d), MIN_SCALE),
                None => (mantissa.signum(), MIN_SCALE),
            }
        } else {
            (mantissa, scale)
        };
        Quantity {
            mantissa,
            scale,
            format,
        }
        .normalized()
    }

    fn normalized(mut self) -> Quantity {
        if self.mantissa == 0 {
            self.scale = 0;
            return self;
        }
        while self.mantissa % 10 == 0 && self.scale < i32::MAX {
            self.mantissa /= 10;
            self.scale += 1;
        }
        self
    }

    pub fn format(&self) -> Format {
        self.format
    }

    /// The same value printed in another format.
    pub fn with_format(mut self, format: Format) -> Quantity {
        self.format = format;
        self
    }

    pub fn is_zero(&self) -> bool {
        self.mantissa == 0
    }

    /// -1, 0 or 1.
    pub fn signum(&self) -> i32 {
        self.mantissa.signum() as i32
    }

    /// The value in units of `10^scale`, rounded away from zero when inexact (upstream's
    /// `ScaledValue`). Saturates at the `i128` range.
    pub fn scaled_value(&self, scale: i32) -> i128 {
        if self.mantissa == 0 {
            return 0;
        }
        let diff = i64::from(self.scale) - i64::from(scale);
        if diff >= 0 {
            let scaled = u32::try_from(diff)
                .ok()
                .and_then(pow10)
                .and_then(|f| self.mantissa.checked_mul(f));
            match scaled {
                Some(v) => v,
                None if self.mantissa < 0 => i128::MIN,
                None => i128::MAX,
            }
        } else {
            match u32::try_from(-diff).ok().and_then(pow10) {
                Some(d) => div_away(self.mantissa, d),
                // Dividing by more than 10^38 leaves only the rounding.
                None => self.mantissa.signum(),
            }
        }
    }

    /// Whole units, rounded away from zero (upstream's `Value`).
    pub fn value(&self) -> i128 {
        self.scaled_value(0)
    }

    /// Thousandths of a unit, rounded away from zero (upstream's `MilliValue`).
    pub fn milli_value(&self) -> i128 {
        self.scaled_value(-3)
    }

    /// An approximation for arithmetic that tolerates it (ratios, percentages).
    pub fn as_f64(&self) -> f64 {
        self.mantissa as f64 * 10f64.powi(self.scale)
    }

    /// Compares |self| with a non-negative integer.
    fn cmp_magnitude_with_int(&self, n: i128) -> Ordering {
        let other = Quantity {
            mantissa: n,
            scale: 0,
            format: self.format,
        }
        .normalized();
        cmp_magnitude(
            self.mantissa.unsigned_abs(),
            self.scale,
            other.mantissa.unsigned_abs(),
            other.scale,
        )
    }

    /// Aligns both mantissas to the smaller scale, or `None` when that overflows.
    fn aligned(&self, other: &Quantity) -> Option<(i128, i128, i32)> {
        let scale = self.scale.min(other.scale);
        let factor = |s: i32| {
            u32::try_from(i64::from(s) - i64::from(scale))
                .ok()
                .and_then(pow10)
        };
        let a = self.mantissa.checked_mul(factor(self.scale)?)?;
        let b = other.mantissa.checked_mul(factor(other.scale)?)?;
        Some((a, b, scale))
    }

    /// The sum, keeping this quantity's format (or the other's when this one is zero, as
    /// upstream does), or `None` when it does not fit.
    pub fn checked_add(&self, other: &Quantity) -> Option<Quantity> {
        let format = if self.is_zero() {
            other.format
        } else {
            self.format
        };
        let (a, b, scale) = self.aligned(other)?;
        Some(
            Quantity {
                mantissa: a.checked_add(b)?,
                scale,
                format,
            }
            .normalized(),
        )
    }

    /// The difference, with the same format rule as `checked_add`.
    pub fn checked_sub(&self, other: &Quantity) -> Option<Quantity> {
        let format = if self.is_zero() {
            other.format
        } else {
            self.format
        };
        let (a, b, scale) = self.aligned(other)?;
        Some(
            Quantity {
                mantissa: a.checked_sub(b)?,
                scale,
                format,
            }
            .normalized(),
        )
    }

    /// `self + other`. Beyond 38 significant digits the exact sum is not representable; then
    /// the operand of larger magnitude is returned (an approximation, never a panic).
    pub fn add(&self, other: &Quantity) -> Quantity {
        self.checked_add(other).unwrap_or_else(|| {
            let larger = match cmp_magnitude(
                self.mantissa.unsigned_abs(),
                self.scale,
                other.mantissa.unsigned_abs(),
                other.scale,
            ) {
                Ordering::Less => *other,
                _ => *self,
            };
            larger.with_format(self.format)
        })
    }

    /// `self - other`, approximating like `add`.
    pub fn sub(&self, other: &Quantity) -> Quantity {
        self.checked_sub(other)
            .unwrap_or_else(|| self.add(&other.negated()))
    }

    /// The value with the opposite sign.
    pub fn negated(&self) -> Quantity {
        Quantity {
            mantissa: -self.mantissa,
            ..*self
        }
    }

    /// The canonical number and suffix, e.g. (`"1"`, `"Gi"`).
    fn canonical_parts(&self) -> (String, String) {
        if self.is_zero() {
            return ("0".into(), String::new());
        }
        let mut format = self.format;
        if format == Format::BinarySI {
            // Small values and fractions print in decimal rather than lose precision.
            let small = self.cmp_magnitude_with_int(1024) == Ordering::Less;
            match (small, self.exact_integer()) {
                (false, Some(mut n)) => {
                    let mut power = 0;
                    while power < BINARY_SUFFIXES.len() - 1 && n % 1024 == 0 {
                        n /= 1024;
                        power += 1;
                    }
                    return (n.to_string(), BINARY_SUFFIXES[power].to_string());
                }
                _ => format = Format::DecimalSI,
            }
        }
        // Move the exponent down to a multiple of three by appending zeros to the number.
        let mut number = self.mantissa.to_string();
        let mut exponent = self.scale;
        let r = exponent.rem_euclid(3);
        number.push_str(&"0".repeat(r as usize));
        exponent -= r;
        match format {
            Format::DecimalExponent => {
                let suffix = if exponent == 0 {
                    String::new()
                } else {
                    format!("e{exponent}")
                };
                (number, suffix)
            }
            _ => {
                // Beyond exa there is no suffix: pad with zeros, or for absurd magnitudes
                // (which only arithmetic can produce) fall back to an exponent.
                if exponent > 18 + 30 {
                    return (number, format!("e{exponent}"));
                }
                if exponent > 18 {
                    number.push_str(&"0".repeat((exponent - 18) as usize));
                    exponent = 18;
                }
                let suffix = DECIMAL_SUFFIXES
                    .iter()
                    .find(|(_, e)| *e == exponent)
                    .map(|(s, _)| *s)
                    .unwrap_or("");
                (number, suffix.to_string())
            }
        }
    }

    /// The value as an integer, when it is one and fits.
    fn exact_integer(&self) -> Option<i128> {
        if self.scale < 0 {
            return None;
        }
        self.mantissa.checked_mul(pow10(self.scale as u32)?)
    }
}

/// Compares `a * 10^sa` with `b * 10^sb` (both non-negative).
fn cmp_magnitude(a: u128, sa: i32, b: u128, sb: i32) -> Ordering {
    if a == 0 || b == 0 {
        return a.cmp(&b);
    }
    if sa >= sb {
        match u32::try_from(i64::from(sa) - i64::from(sb))
            .ok()
            .and_then(|e| 10u128.checked_pow(e))
            .and_then(|f| a.checked_mul(f))
        {
            Some(a) => a.cmp(&b),
            // Overflowing u128 means it is larger than any mantissa.
            None => Ordering::Greater,
        }
    } else {
        cmp_magnitude(b, sb, a, sa).reverse()
    }
}

impl PartialEq for Quantity {
    fn eq(&self, other: &Self) -> bool {
        // Both sides are normalized, so equal values have equal representations.
        self.mantissa == other.mantissa && self.scale == other.scale
    }
}

impl Eq for Quantity {}

impl std::hash::Hash for Quantity {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        self.mantissa.hash(state);
        self.scale.hash(state);
    }
}

impl PartialOrd for Quantity {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Quantity {
    fn cmp(&self, other: &Self) -> Ordering {
        let (sa, sb) = (self.mantissa.signum(), other.mantissa.signum());
        if sa != sb {
            return sa.cmp(&sb);
        }
        let m = cmp_magnitude(
            self.mantissa.unsigned_abs(),
            self.scale,
            other.mantissa.unsigned_abs(),
            other.scale,
        );
        if sa < 0 {
            m.reverse()
        } else {
            m
        }
    }
}

impl Default for Quantity {
    fn default() -> Self {
        Quantity::zero()
    }
}

impl fmt::Display for Quantity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (number, suffix) = self.canonical_parts();
        write!(f, "{number}{suffix}")
    }
}

impl FromStr for Quantity {
    type Err = QuantityError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Quantity::parse(s)
    }
}

impl std::ops::Add for Quantity {
    type Output = Quantity;
    fn add(self, rhs: Quantity) -> Quantity {
        Quantity::add(&self, &rhs)
    }
}

impl std::ops::Sub for Quantity {
    type Output = Quantity;
    fn sub(self, rhs: Quantity) -> Quantity {
        Quantity::sub(&self, &rhs)
    }
}

impl std::ops::AddAssign for Quantity {
    fn add_assign(&mut self, rhs: Quantity) {
        *self = Quantity::add(self, &rhs);
    }
}

impl std::ops::SubAssign for Quantity {
    fn sub_assign(&mut self, rhs: Quantity) {
        *self = Quantity::sub(self, &rhs);
    }
}

impl std::iter::Sum for Quantity {
    fn sum<I: Iterator<Item = Quantity>>(iter: I) -> Quantity {
        iter.fold(Quantity::zero(), |acc, q| acc + q)
    }
}

impl TryFrom<&k8s_openapi::apimachinery::pkg::api::resource::Quantity> for Quantity {
    type Error = QuantityError;
    fn try_from(
        q: &k8s_openapi::apimachinery::pkg::api::resource::Quantity,
    ) -> Result<Self, Self::Error> {
        Quantity::parse(q.0.trim())
    }
}

impl From<Quantity> for k8s_openapi::apimachinery::pkg::api::resource::Quantity {
    fn from(q: Quantity) -> Self {
        k8s_openapi::apimachinery::pkg::api::resource::Quantity(q.to_string())
    }
}

impl serde::Serialize for Quantity {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> serde::Deserialize<'de> for Quantity {
    /// Accepts a string (`"100m"`) or, like upstream, a bare JSON number (`2`).
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct V;
        impl serde::de::Visitor<'_> for V {
            type Value = Quantity;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a quantity such as \"100m\" or \"1Gi\"")
            }
            fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<Quantity, E> {
                Quantity::parse(v.trim()).map_err(E::custom)
            }
            fn visit_i64<E: serde::de::Error>(self, v: i64) -> Result<Quantity, E> {
                Ok(Quantity::new(v, Format::DecimalSI))
            }
            fn visit_u64<E: serde::de::Error>(self, v: u64) -> Result<Quantity, E> {
                self.visit_str(&v.to_string())
            }
            fn visit_f64<E: serde::de::Error>(self, v: f64) -> Result<Quantity, E> {
                self.visit_str(&v.to_string())
            }
            fn visit_unit<E: serde::de::Error>(self) -> Result<Quantity, E> {
                Ok(Quantity::zero())
            }
        }
        deserializer.deserialize_any(V)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn q(s: &str) -> Quantity {
        Quantity::parse(s).unwrap_or_else(|e| panic!("{s}: {e}"))
    }

    fn canon(s: &str) -> String {
        q(s).to_string()
    }

    #[test]
    fn canonical_forms_keep_the_written_family() {
        let cases = [
            ("0", "0"),
            ("0Mi", "0"),
            ("100m", "100m"),
            ("1", "1"),
            ("1.5", "1500m"),
            ("0.5", "500m"),
            ("0.1", "100m"),
            ("1.0", "1"),
            ("1000m", "1"),
            ("1000", "1k"),
            ("1k", "1k"),
            ("1M", "1M"),
            ("1500M", "1500M"),
            ("1G", "1G"),
            ("1Gi", "1Gi"),
            ("500Mi", "500Mi"),
            ("1024Mi", "1Gi"),
            ("1536Mi", "1536Mi"),
            ("1.5Gi", "1536Mi"),
            ("0.5Gi", "512Mi"),
            ("1.5Ki", "1536"),
            ("1Ki", "1Ki"),
            ("1e3", "1e3"),
            ("1E3", "1e3"),
            ("1E-3", "1e-3"),
            ("1.5e3", "1500"),
            ("1000e0", "1e3"),
            ("-1", "-1"),
            ("+2", "2"),
            ("-100m", "-100m"),
            ("12345", "12345"),
            ("1n", "1n"),
            ("1u", "1u"),
            ("1500u", "1500u"),
            ("1E", "1E"),
            ("1000E", "1000E"),
            ("1P", "1P"),
            ("0.000000001", "1n"),
            ("100Ki", "100Ki"),
            ("1023", "1023"),
            ("1Ei", "1Ei"),
            ("1024Ei", "9223372036854775807"),
        ];
        for (input, want) in cases {
            assert_eq!(canon(input), want, "canonical form of {input:?}");
        }
    }

    #[test]
    fn small_binary_values_print_as_decimal() {
        // Upstream avoids binary suffixes for |value| < 1024 and for fractions.
        assert_eq!(canon("0.5Ki"), "512");
        assert_eq!(canon("1023Mi"), "1023Mi");
        assert_eq!(q("1Ki").sub(&q("1")).to_string(), "1023");
    }

    #[test]
    fn values_finer_than_nano_round_up() {
        assert_eq!(canon("0.0000000001"), "1n");
        assert_eq!(canon("1.0000000001"), "1000000001n");
        assert_eq!(canon("-0.0000000001"), "-1n");
        assert_eq!(canon("1e-20"), "1e-9");
        assert_eq!(
            canon("0.33333333333333333333333333333333333333333333"),
            "333333334n"
        );
    }

    #[test]
    fn milli_value_and_value_round_away_from_zero() {
        assert_eq!(q("100m").milli_value(), 100);
        assert_eq!(q("1").milli_value(), 1000);
        assert_eq!(q("1.5").milli_value(), 1500);
        assert_eq!(q("1Ki").milli_value(), 1_024_000);
        assert_eq!(q("1n").milli_value(), 1);
        assert_eq!(q("1500u").milli_value(), 2);
        assert_eq!(q("-1n").milli_value(), -1);
        assert_eq!(q("100m").value(), 1);
        assert_eq!(q("1.5").value(), 2);
        assert_eq!(q("1Gi").value(), 1 << 30);
        assert_eq!(q("1G").value(), 1_000_000_000);
        assert_eq!(q("1e3").value(), 1000);
        assert_eq!(q("0").value(), 0);
        assert_eq!(q("1E-3").milli_value(), 1);
        assert_eq!(q("1e30").value(), 10i128.pow(30));
    }

    #[test]
    fn equality_and_order_are_numeric() {
        assert_eq!(q("1000m"), q("1"));
        assert_eq!(q("1Ki"), q("1024"));
        assert_eq!(q("1e3"), q("1k"));
        assert!(q("1Gi") > q("1G"));
        assert!(q("100m") < q("1"));
        assert!(q("-1") < q("0"));
        assert!(q("-2") < q("-1"));
        assert!(q("1E") > q("1P"));
        assert!(q("1e100") > q("1E"));
        assert!(q("1n") > q("0"));
        let mut v = [q("1Gi"), q("1"), q("100m"), q("1G"), q("-5")];
        v.sort();
        let printed: Vec<String> = v.iter().map(|q| q.to_string()).collect();
        assert_eq!(printed, ["-5", "100m", "1", "1G", "1Gi"]);
    }

    #[test]
    fn add_and_sub_keep_the_left_format() {
        assert_eq!(q("1").add(&q("500m")).to_string(), "1500m");
        assert_eq!(q("1Gi").add(&q("1Gi")).to_string(), "2Gi");
        assert_eq!(q("1Gi").sub(&q("512Mi")).to_string(), "512Mi");
        assert_eq!(q("0").add(&q("1Gi")).to_string(), "1Gi");
        assert_eq!(q("1").sub(&q("2")).to_string(), "-1");
        assert_eq!((q("250m") + q("250m")).to_string(), "500m");
        let total: Quantity = ["100m", "200m", "700m"].iter().map(|s| q(s)).sum();
        assert_eq!(total, q("1"));
        let mut x = q("1");
        x -= q("1");
        assert!(x.is_zero());
    }

    #[test]
    fn rejects_malformed_quantities_with_upstream_message() {
        let msg = "quantities must match the regular expression \
                   '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'";
        for bad in [
            "", "abc", "1 Gi", "Gi", "1.2.3", "--1", "1Gi ", " 1", "1x", "1e3.5", "-", "1KiB",
        ] {
            let err = Quantity::parse(bad).unwrap_err();
            assert_eq!(err, QuantityError::FormatWrong, "{bad:?}");
            assert_eq!(err.to_string(), msg);
        }
    }

    #[test]
    fn rejects_unknown_suffixes() {
        for bad in ["1e", "1Ki5", "1k3", "1ee3", "1mi", "1K"] {
            let err = Quantity::parse(bad).unwrap_err();
            assert_eq!(err, QuantityError::Suffix, "{bad:?}");
            assert_eq!(err.to_string(), "unable to parse quantity's suffix");
        }
    }

    #[test]
    fn accepts_bare_dots_and_leading_zeros_like_upstream() {
        assert_eq!(canon("."), "0");
        assert_eq!(canon("1."), "1");
        assert_eq!(canon(".5"), "500m");
        assert_eq!(canon("007"), "7");
        assert_eq!(canon("1.G"), "1G");
    }

    #[test]
    fn binary_quantities_are_capped_at_int64() {
        assert_eq!(q("100000000000Ei").value(), i64::MAX as i128);
        assert_eq!(q("-100000000000Ei").value(), -(i64::MAX as i128));
        let huge = format!("{}Ki", "9".repeat(45));
        assert_eq!(q(&huge).value(), i64::MAX as i128);
    }

    #[test]
    fn constructors_and_accessors() {
        assert_eq!(
            Quantity::from_milli(250, Format::DecimalSI).to_string(),
            "250m"
        );
        assert_eq!(Quantity::new(2048, Format::BinarySI).to_string(), "2Ki");
        assert_eq!(Quantity::new(3, Format::DecimalExponent).to_string(), "3");
        assert_eq!(
            Quantity::from_scaled(15, -1, Format::DecimalSI).to_string(),
            "1500m"
        );
        assert_eq!(
            Quantity::from_scaled(1, -12, Format::DecimalSI).to_string(),
            "1n"
        );
        assert_eq!(q("1Gi").format(), Format::BinarySI);
        assert_eq!(q("1e3").format(), Format::DecimalExponent);
        assert_eq!(
            q("1k").with_format(Format::DecimalExponent).to_string(),
            "1e3"
        );
        assert_eq!(q("-3").signum(), -1);
        assert!((q("1.5").as_f64() - 1.5).abs() < 1e-12);
        assert_eq!(Quantity::default(), Quantity::zero());
        assert_eq!("2Gi".parse::<Quantity>().unwrap(), q("2048Mi"));
    }

    #[test]
    fn serde_round_trip_and_numbers() {
        let v: Quantity = serde_json::from_str("\"1024Mi\"").unwrap();
        assert_eq!(serde_json::to_string(&v).unwrap(), "\"1Gi\"");
        let n: Quantity = serde_json::from_str("2").unwrap();
        assert_eq!(n.to_string(), "2");
        let f: Quantity = serde_json::from_str("0.5").unwrap();
        assert_eq!(f.to_string(), "500m");
        let err = serde_json::from_str::<Quantity>("\"abc\"").unwrap_err();
        assert!(err.to_string().contains("quantities must match"), "{err}");
    }

    #[test]
    fn converts_from_and_to_openapi_quantity() {
        use k8s_openapi::apimachinery::pkg::api::resource::Quantity as Api;
        let api = Api("1000m".into());
        let parsed = Quantity::try_from(&api).unwrap();
        assert_eq!(Api::from(parsed).0, "1");
    }
}
