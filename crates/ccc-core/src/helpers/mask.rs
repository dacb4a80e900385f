//! Phone-number masking for logs and displays.

/// The number with its four middle digits hidden (`13812345678` -> `138****5678`).
///
/// Numbers of four characters or fewer (extensions) are returned as they are; numbers
/// of five to six characters keep one character at each end. A leading `+` is kept.
///
/// ```
/// use ccc_core::helpers::mask_phone_number;
/// assert_eq!(mask_phone_number("13812345678"), "138****5678");
/// assert_eq!(mask_phone_number("+8613812345678"), "+8613****45678");
/// assert_eq!(mask_phone_number("8001"), "8001");
/// ```
pub fn mask_phone_number(number: &str) -> String {
    let (plus, digits) = number
        .strip_prefix('+')
        .map_or(("", number), |rest| ("+", rest));
    let chars: Vec<char> = digits.chars().collect();
    let len = chars.len();
    if len <= 4 {
        return number.to_owned();
    }
    let hidden = 4.min(len - 2);
    let start = (len - hidden) / 2;
    let mut out = String::with_capacity(number.len());
    out.push_str(plus);
    for (i, c) in chars.into_iter().enumerate() {
        out.push(if (start..start + hidden).contains(&i) {
            '*'
        } else {
            c
        });
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lengths() {
        assert_eq!(mask_phone_number(""), "");
        assert_eq!(mask_phone_number("12345"), "1***5");
        assert_eq!(mask_phone_number("123456"), "1****6");
        assert_eq!(mask_phone_number("1234567"), "1****67");
        assert_eq!(mask_phone_number("057188888888"), "0571****8888");
        assert_eq!(mask_phone_number("号码号码号码"), "号****码");
    }
}
