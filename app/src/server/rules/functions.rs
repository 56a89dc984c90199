//! The functions a condition may call, each as OpenTofu 1.9 defines it, declared into the
//! evaluation context.

use super::*;

pub(super) fn declare_functions(context: &mut Context) {
    use ParamType::{Any, Number as Num, String as Str};
    let array = || ParamType::array_of(Any);
    let defs: [(&str, FuncDef); 29] = [
        ("length", FuncDef::new(length, [Any])),
        ("contains", FuncDef::new(contains, [Any, Any])),
        ("alltrue", FuncDef::new(alltrue, [array()])),
        ("anytrue", FuncDef::new(anytrue, [array()])),
        ("regex", FuncDef::new(regex, [Str, Str])),
        ("regexall", FuncDef::new(regexall, [Str, Str])),
        ("cidrhost", FuncDef::new(cidrhost, [Str, Num])),
        ("cidrnetmask", FuncDef::new(cidrnetmask, [Str])),
        ("cidrsubnet", FuncDef::new(cidrsubnet, [Str, Num, Num])),
        ("lower", FuncDef::new(lower_case, [Str])),
        ("upper", FuncDef::new(upper_case, [Str])),
        ("trimspace", FuncDef::new(trimspace, [Str])),
        ("startswith", FuncDef::new(startswith, [Str, Str])),
        ("endswith", FuncDef::new(endswith, [Str, Str])),
        ("strcontains", FuncDef::new(strcontains, [Str, Str])),
        ("substr", FuncDef::new(substr, [Str, Num, Num])),
        ("split", FuncDef::new(split, [Str, Str])),
        ("join", FuncDef::new(join, [Str, array()])),
        ("keys", FuncDef::new(keys, [ParamType::object_of(Any)])),
        ("values", FuncDef::new(values, [ParamType::object_of(Any)])),
        ("min", FuncDef::builder().variadic_param(Num).build(min)),
        ("max", FuncDef::builder().variadic_param(Num).build(max)),
        ("abs", FuncDef::new(abs, [Num])),
        ("floor", FuncDef::new(floor, [Num])),
        ("ceil", FuncDef::new(ceil, [Num])),
        ("tonumber", FuncDef::new(tonumber, [Any])),
        ("tostring", FuncDef::new(tostring, [Any])),
        ("tobool", FuncDef::new(tobool, [Any])),
        (
            "coalesce",
            FuncDef::builder().variadic_param(Any).build(coalesce),
        ),
    ];
    for (name, def) in defs {
        context.declare_func(name, def);
    }
}

pub(super) fn text(value: &Value) -> Result<&str, String> {
    value
        .as_str()
        .ok_or_else(|| format!("expected a string, got {value}"))
}

pub(super) fn number(value: &Value) -> Result<f64, String> {
    value
        .as_number()
        .and_then(Number::as_f64)
        .ok_or_else(|| format!("expected a number, got {value}"))
}

pub(super) fn whole(value: &Value) -> Result<i128, String> {
    let n = number(value)?;
    if n.fract() != 0.0 {
        return Err(format!("expected a whole number, got {n}"));
    }
    Ok(n as i128)
}

pub(super) fn num(n: f64) -> Value {
    if n.fract() == 0.0 && n.abs() < 9.0e15 {
        Value::Number(Number::from(n as i64))
    } else {
        Number::from_f64(n)
            .map(Value::Number)
            .unwrap_or(Value::Null)
    }
}

pub(super) fn length(args: FuncArgs) -> Result<Value, String> {
    let n = match &args[0] {
        Value::String(s) => s.chars().count(),
        Value::Array(items) => items.len(),
        Value::Object(map) => map.len(),
        other => return Err(format!("length() takes a string, list or map, not {other}")),
    };
    Ok(Value::from(n as u64))
}

pub(super) fn contains(args: FuncArgs) -> Result<Value, String> {
    match &args[0] {
        Value::Array(items) => Ok(Value::Bool(items.contains(&args[1]))),
        other => Err(format!("contains() takes a list, not {other}")),
    }
}

pub(super) fn bools(value: &Value) -> Result<Vec<bool>, String> {
    value
        .as_array()
        .into_iter()
        .flatten()
        .map(|v| {
            v.as_bool()
                .ok_or_else(|| format!("expected true or false, got {v}"))
        })
        .collect()
}

pub(super) fn alltrue(args: FuncArgs) -> Result<Value, String> {
    Ok(Value::Bool(bools(&args[0])?.into_iter().all(|b| b)))
}

pub(super) fn anytrue(args: FuncArgs) -> Result<Value, String> {
    Ok(Value::Bool(bools(&args[0])?.into_iter().any(|b| b)))
}

pub(super) fn compiled(pattern: &str) -> Result<regex::Regex, String> {
    regex::RegexBuilder::new(pattern)
        .size_limit(1 << 20)
        .build()
        .map_err(|e| format!("invalid pattern: {e}"))
}

/// One match as OpenTofu returns it: the text, a list of the groups, or an object of the named
/// groups.
pub(super) fn matched(re: &regex::Regex, captures: &regex::Captures<'_>) -> Value {
    let named: Vec<&str> = re.capture_names().flatten().collect();
    if !named.is_empty() {
        return Value::Object(
            named
                .iter()
                .map(|n| {
                    let v = captures
                        .name(n)
                        .map(|m| Value::from(m.as_str()))
                        .unwrap_or(Value::Null);
                    (n.to_string(), v)
                })
                .collect(),
        );
    }
    if captures.len() > 1 {
        return Value::Array(
            (1..captures.len())
                .map(|i| {
                    captures
                        .get(i)
                        .map(|m| Value::from(m.as_str()))
                        .unwrap_or(Value::Null)
                })
                .collect(),
        );
    }
    Value::from(captures.get(0).map_or("", |m| m.as_str()))
}

pub(super) fn regex(args: FuncArgs) -> Result<Value, String> {
    let re = compiled(text(&args[0])?)?;
    let subject = text(&args[1])?;
    let captures = re
        .captures(subject)
        .ok_or("the pattern did not match the string")?;
    Ok(matched(&re, &captures))
}

pub(super) fn regexall(args: FuncArgs) -> Result<Value, String> {
    let re = compiled(text(&args[0])?)?;
    let subject = text(&args[1])?;
    Ok(Value::Array(
        re.captures_iter(subject)
            .map(|c| matched(&re, &c))
            .collect(),
    ))
}

/// A CIDR prefix: its network address as a number, its address width (32 or 128) and length.
pub(super) fn prefix(text: &str) -> Result<(u128, u32, u32), String> {
    let (address, length) = text
        .split_once('/')
        .ok_or_else(|| format!("invalid CIDR address {text:?}: no prefix length"))?;
    let ip: std::net::IpAddr = address
        .parse()
        .map_err(|_| format!("invalid CIDR address {text:?}"))?;
    let (bits, width) = match ip {
        std::net::IpAddr::V4(v4) => (u128::from(u32::from(v4)), 32),
        std::net::IpAddr::V6(v6) => (u128::from(v6), 128),
    };
    let length: u32 = length.parse().ok().filter(|l| *l <= width).ok_or_else(|| {
        format!("invalid CIDR address {text:?}: the prefix length must be 0–{width}")
    })?;
    let host_bits = width - length;
    let network = if host_bits >= 128 {
        0
    } else {
        bits >> host_bits << host_bits
    };
    Ok((network, width, length))
}

pub(super) fn address(bits: u128, width: u32) -> String {
    if width == 32 {
        std::net::Ipv4Addr::from(bits as u32).to_string()
    } else {
        std::net::Ipv6Addr::from(bits).to_string()
    }
}

pub(super) fn cidrhost(args: FuncArgs) -> Result<Value, String> {
    let (network, width, length) = prefix(text(&args[0])?)?;
    let host = whole(&args[1])?;
    let host_bits = width - length;
    let size: i128 = if host_bits >= 127 {
        i128::MAX
    } else {
        1i128 << host_bits
    };
    let offset = if host < 0 { size + host } else { host };
    if offset < 0 || offset >= size {
        return Err(format!("prefix of {length} bits has no host number {host}"));
    }
    Ok(Value::from(address(network + offset as u128, width)))
}

pub(super) fn cidrnetmask(args: FuncArgs) -> Result<Value, String> {
    let (_, width, length) = prefix(text(&args[0])?)?;
    if width != 32 {
        return Err("cidrnetmask() takes only IPv4 prefixes".into());
    }
    let mask = if length == 0 {
        0
    } else {
        u32::MAX << (32 - length)
    };
    Ok(Value::from(std::net::Ipv4Addr::from(mask).to_string()))
}

pub(super) fn cidrsubnet(args: FuncArgs) -> Result<Value, String> {
    let (network, width, length) = prefix(text(&args[0])?)?;
    let newbits = whole(&args[1])?;
    let netnum = whole(&args[2])?;
    if newbits < 0 || length as i128 + newbits > width as i128 {
        return Err(format!(
            "cannot extend a prefix of {length} bits by {newbits} bits"
        ));
    }
    let new_length = length + newbits as u32;
    if netnum < 0 || (newbits < 127 && netnum >= (1i128 << newbits)) {
        return Err(format!(
            "prefix extension of {newbits} bits has no network number {netnum}"
        ));
    }
    let shifted = (netnum as u128) << (width - new_length);
    Ok(Value::from(format!(
        "{}/{new_length}",
        address(network | shifted, width)
    )))
}

pub(super) fn lower_case(args: FuncArgs) -> Result<Value, String> {
    Ok(Value::from(text(&args[0])?.to_lowercase()))
}

pub(super) fn upper_case(args: FuncArgs) -> Result<Value, String> {
    Ok(Value::from(text(&args[0])?.to_uppercase()))
}

pub(super) fn trimspace(args: FuncArgs) -> Result<Value, String> {
    Ok(Value::from(text(&args[0])?.trim()))
}

pub(super) fn startswith(args: FuncArgs) -> Result<Value, String> {
    Ok(Value::Bool(text(&args[0])?.starts_with(text(&args[1])?)))
}

pub(super) fn endswith(args: FuncArgs) -> Result<Value, String> {
    Ok(Value::Bool(text(&args[0])?.ends_with(text(&args[1])?)))
}

pub(super) fn strcontains(args: FuncArgs) -> Result<Value, String> {
    Ok(Value::Bool(text(&args[0])?.contains(text(&args[1])?)))
}

pub(super) fn substr(args: FuncArgs) -> Result<Value, String> {
    let chars: Vec<char> = text(&args[0])?.chars().collect();
    let offset = whole(&args[1])?;
    let length = whole(&args[2])?;
    let len = chars.len() as i128;
    let start = if offset < 0 { len + offset } else { offset };
    if start < 0 || start > len {
        return Err("offset out of range".into());
    }
    let end = if length < 0 {
        len
    } else {
        (start + length).min(len)
    };
    Ok(Value::from(
        chars[start as usize..end as usize]
            .iter()
            .collect::<String>(),
    ))
}

pub(super) fn split(args: FuncArgs) -> Result<Value, String> {
    let separator = text(&args[0])?;
    let subject = text(&args[1])?;
    Ok(Value::Array(
        subject.split(separator).map(Value::from).collect(),
    ))
}

pub(super) fn join(args: FuncArgs) -> Result<Value, String> {
    let separator = text(&args[0])?;
    let parts: Vec<&str> = args[1]
        .as_array()
        .into_iter()
        .flatten()
        .map(text)
        .collect::<Result<_, _>>()?;
    Ok(Value::from(parts.join(separator)))
}

pub(super) fn keys(args: FuncArgs) -> Result<Value, String> {
    let map = args[0].as_object().ok_or("keys() takes a map")?;
    let mut names: Vec<&String> = map.keys().collect();
    names.sort();
    Ok(Value::Array(
        names.into_iter().map(|k| Value::from(k.as_str())).collect(),
    ))
}

pub(super) fn values(args: FuncArgs) -> Result<Value, String> {
    let map = args[0].as_object().ok_or("values() takes a map")?;
    let mut pairs: Vec<(&String, &Value)> = map.iter().collect();
    pairs.sort_by(|a, b| a.0.cmp(b.0));
    Ok(Value::Array(
        pairs.into_iter().map(|(_, v)| v.clone()).collect(),
    ))
}

pub(super) fn numbers(args: &FuncArgs) -> Result<Vec<f64>, String> {
    if args.is_empty() {
        return Err("expected at least one number".into());
    }
    args.iter().map(number).collect()
}

pub(super) fn min(args: FuncArgs) -> Result<Value, String> {
    Ok(num(numbers(&args)?
        .into_iter()
        .fold(f64::INFINITY, f64::min)))
}

pub(super) fn max(args: FuncArgs) -> Result<Value, String> {
    Ok(num(numbers(&args)?
        .into_iter()
        .fold(f64::NEG_INFINITY, f64::max)))
}

pub(super) fn abs(args: FuncArgs) -> Result<Value, String> {
    Ok(num(number(&args[0])?.abs()))
}

pub(super) fn floor(args: FuncArgs) -> Result<Value, String> {
    Ok(num(number(&args[0])?.floor()))
}

pub(super) fn ceil(args: FuncArgs) -> Result<Value, String> {
    Ok(num(number(&args[0])?.ceil()))
}

pub(super) fn tonumber(args: FuncArgs) -> Result<Value, String> {
    match &args[0] {
        Value::Number(n) => Ok(Value::Number(n.clone())),
        Value::String(s) => s
            .trim()
            .parse::<f64>()
            .map(num)
            .map_err(|_| format!("cannot convert {s:?} to a number")),
        Value::Null => Ok(Value::Null),
        other => Err(format!("cannot convert {other} to a number")),
    }
}

pub(super) fn tostring(args: FuncArgs) -> Result<Value, String> {
    match &args[0] {
        Value::String(s) => Ok(Value::from(s.as_str())),
        Value::Number(n) => Ok(Value::from(n.to_string())),
        Value::Bool(b) => Ok(Value::from(b.to_string())),
        Value::Null => Ok(Value::Null),
        other => Err(format!("cannot convert {other} to a string")),
    }
}

pub(super) fn tobool(args: FuncArgs) -> Result<Value, String> {
    match &args[0] {
        Value::Bool(b) => Ok(Value::Bool(*b)),
        Value::String(s) if s == "true" => Ok(Value::Bool(true)),
        Value::String(s) if s == "false" => Ok(Value::Bool(false)),
        Value::Null => Ok(Value::Null),
        other => Err(format!("cannot convert {other} to a bool")),
    }
}

pub(super) fn coalesce(args: FuncArgs) -> Result<Value, String> {
    args.iter()
        .find(|v| !matches!(v, Value::Null) && v.as_str() != Some(""))
        .cloned()
        .ok_or_else(|| "no non-null, non-empty argument".into())
}
