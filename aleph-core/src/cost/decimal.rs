//! Decimal helpers: the reference's 18-decimal floor, its two renderings of a decimal, and
//! tolerant parsing of amounts written as JSON strings or numbers.

use std::str::FromStr;

use rust_decimal::{Decimal, RoundingStrategy};
use serde_json::Value;

use super::{CostError, PRICE_PRECISION};

/// Floors `value` to [`PRICE_PRECISION`] (18) decimals, toward negative infinity, and gives it
/// exactly 18 decimals: the reference's `format_cost` (`quantize(1e-18, ROUND_FLOOR)`). Zero
/// is never negative.
pub fn floor_cost(value: Decimal) -> Decimal {
    let mut floored = value.round_dp_with_strategy(PRICE_PRECISION, RoundingStrategy::ToNegativeInfinity);
    if floored.is_zero() {
        floored = Decimal::ZERO;
    }
    // Values too large for 18 decimals keep the scale they can hold.
    floored.rescale(PRICE_PRECISION);
    floored
}

/// The reference's `format_cost_str`: floored to 18 decimals and written with exactly 18
/// decimals (`"0.000277777777777777"`), as cost strings appear in API responses.
pub fn cost_string(value: Decimal) -> String {
    let floored = floor_cost(value);
    format!("{floored:.18}")
}

/// Python's `str(Decimal)` for a decimal with this value and scale: plain notation, or
/// scientific notation when the exponent is positive or the adjusted exponent is below -6
/// (`"0E-18"`, `"2.71388888E-10"`). The reference writes the amounts of rejection details
/// (codes 5 and 6) this way.
pub fn python_decimal_str(value: Decimal) -> String {
    let negative = value.is_sign_negative() && !value.is_zero();
    let digits = value.mantissa().unsigned_abs().to_string();
    let exponent = -i64::from(value.scale());
    let len = digits.len() as i64;
    let adjusted = exponent + len - 1;
    let mut out = String::new();
    if negative {
        out.push('-');
    }
    if exponent <= 0 && adjusted >= -6 {
        if exponent == 0 {
            out.push_str(&digits);
        } else {
            let point = len + exponent;
            if point > 0 {
                let (int, frac) = digits.split_at(point as usize);
                out.push_str(int);
                out.push('.');
                out.push_str(frac);
            } else {
                out.push_str("0.");
                out.extend(std::iter::repeat_n('0', (-point) as usize));
                out.push_str(&digits);
            }
        }
    } else {
        let (first, rest) = digits.split_at(1);
        out.push_str(first);
        if !rest.is_empty() {
            out.push('.');
            out.push_str(rest);
        }
        out.push('E');
        out.push(if adjusted < 0 { '-' } else { '+' });
        out.push_str(&adjusted.unsigned_abs().to_string());
    }
    out
}

/// Parses a decimal written as text: plain (`"0.05"`) or scientific (`"1e-05"`).
pub fn parse_decimal(text: &str) -> Option<Decimal> {
    let t = text.trim();
    Decimal::from_str(t).ok().or_else(|| Decimal::from_scientific(t).ok())
}

/// Reads a price the way the reference does (`Decimal(value or 0)`): a missing or falsy value
/// (null, `false`, `0`, `""`) is zero; strings and numbers are read as decimals.
///
/// JSON floats are read from their shortest decimal form (`0.05` is 0.05), where the reference
/// would take the float's exact binary expansion; pricing aggregates write prices as strings.
pub(crate) fn price_value(v: Option<&Value>, what: &str) -> Result<Decimal, CostError> {
    let invalid = || CostError::InvalidPricing(format!("{what}: not a decimal"));
    match v {
        None | Some(Value::Null) | Some(Value::Bool(false)) => Ok(Decimal::ZERO),
        Some(Value::String(s)) if s.is_empty() => Ok(Decimal::ZERO),
        Some(Value::String(s)) => parse_decimal(s).ok_or_else(invalid),
        Some(Value::Number(n)) => parse_decimal(&n.to_string()).ok_or_else(invalid),
        Some(_) => Err(invalid()),
    }
}

/// Checked arithmetic that reports overflow as [`CostError::Overflow`] instead of panicking.
pub(crate) fn add(a: Decimal, b: Decimal) -> Result<Decimal, CostError> {
    a.checked_add(b).ok_or(CostError::Overflow)
}

/// See [`add`].
pub(crate) fn mul(a: Decimal, b: Decimal) -> Result<Decimal, CostError> {
    a.checked_mul(b).ok_or(CostError::Overflow)
}

/// See [`add`].
pub(crate) fn div(a: Decimal, b: Decimal) -> Result<Decimal, CostError> {
    a.checked_div(b).ok_or(CostError::Overflow)
}

/// Serde helpers writing a decimal as a JSON string and reading a string or a number.
pub(crate) mod serde_str {
    use rust_decimal::Decimal;
    use serde::{Deserialize, Deserializer, Serializer};
    use serde_json::Value;

    pub(crate) fn serialize<S: Serializer>(d: &Decimal, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(d)
    }

    pub(crate) fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Decimal, D::Error> {
        let v = Value::deserialize(d)?;
        super::price_value(Some(&v), "decimal").map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> Decimal {
        parse_decimal(s).unwrap()
    }

    #[test]
    fn floors_toward_negative_infinity() {
        assert_eq!(cost_string(d("0.0002777777777777777777777778")), "0.000277777777777777");
        assert_eq!(cost_string(d("-0.0000000000000000001")), "-0.000000000000000001");
        assert_eq!(cost_string(d("-0")), "0.000000000000000000");
        assert_eq!(cost_string(d("1000")), "1000.000000000000000000");
        assert_eq!(floor_cost(d("1.5")).scale(), 18);
    }

    #[test]
    fn python_str_of_decimals() {
        assert_eq!(python_decimal_str(floor_cost(Decimal::ZERO)), "0E-18");
        assert_eq!(python_decimal_str(d("1000.000000000000000000")), "1000.000000000000000000");
        assert_eq!(python_decimal_str(d("0.500000000000000000")), "0.500000000000000000");
        assert_eq!(python_decimal_str(d("0.000000100000000000")), "1.00000000000E-7");
        assert_eq!(python_decimal_str(d("0.000000000271388888")), "2.71388888E-10");
        assert_eq!(python_decimal_str(d("0.000001")), "0.000001");
        assert_eq!(python_decimal_str(d("0")), "0");
        assert_eq!(python_decimal_str(d("1234.5")), "1234.5");
        assert_eq!(python_decimal_str(d("-2.5")), "-2.5");
        assert_eq!(python_decimal_str(d("23.999999999999932800")), "23.999999999999932800");
    }

    #[test]
    fn reads_prices_like_the_reference() {
        assert_eq!(price_value(None, "x").unwrap(), Decimal::ZERO);
        assert_eq!(price_value(Some(&Value::Null), "x").unwrap(), Decimal::ZERO);
        assert_eq!(price_value(Some(&serde_json::json!("0.05")), "x").unwrap(), d("0.05"));
        assert_eq!(price_value(Some(&serde_json::json!(50)), "x").unwrap(), d("50"));
        assert_eq!(price_value(Some(&serde_json::json!(1e-5)), "x").unwrap(), d("0.00001"));
        assert!(price_value(Some(&serde_json::json!("abc")), "x").is_err());
        assert!(price_value(Some(&serde_json::json!([1])), "x").is_err());
    }
}
