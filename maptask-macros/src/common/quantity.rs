//! Kubernetes resource quantities, checked at compile time.

/// A Kubernetes quantity: a decimal number and an optional suffix.
pub fn is_quantity(text: &str) -> bool {
    const SUFFIXES: [&str; 14] = [
        "", "m", "k", "M", "G", "T", "P", "E", "Ki", "Mi", "Gi", "Ti", "Pi", "Ei",
    ];
    let digits = text
        .bytes()
        .take_while(|b| b.is_ascii_digit() || *b == b'.')
        .count();
    let (number, suffix) = text.split_at(digits);
    !number.is_empty()
        && number.bytes().filter(|b| *b == b'.').count() <= 1
        && number != "."
        && SUFFIXES.contains(&suffix)
}
