//! A syntax check of Python `re` patterns, for `requirements.node.address_regex`, which the
//! reference schema requires to compile with Python's `re.compile` (3.11+ syntax).
//!
//! It reproduces the errors of CPython's `sre_parse` that a pattern can hit: unbalanced or
//! unterminated groups and sets, bad escapes, bad ranges, nothing to repeat, multiple repeats,
//! bad repeat bounds, bad group names and references, unknown extensions and bad inline flags.
//! Known gap: look-behind patterns are not checked for fixed width, so a few patterns Python
//! refuses for that reason are accepted here.

const MAXREPEAT: u64 = 4_294_967_295;

/// Checks that `pattern` would compile with Python's `re` module; the error names the problem.
pub(super) fn check(pattern: &str) -> Result<(), String> {
    let mut p = Parser {
        s: pattern.chars().collect(),
        i: 0,
        groups: 1,
        open: Vec::new(),
        names: Vec::new(),
        cond_refs: Vec::new(),
        verbose: false,
    };
    p.global_flags()?;
    p.alternation(0)?;
    if p.i < p.s.len() {
        // Only an unmatched `)` stops the top level early.
        return Err("unbalanced parenthesis".into());
    }
    // Conditionals may name a group defined later, but it must exist.
    if p.cond_refs.iter().any(|&g| g >= p.groups) {
        return Err("invalid group reference".into());
    }
    Ok(())
}

#[derive(Clone, Copy, PartialEq)]
enum Item {
    /// A group, literal, set, class or look-around: can be repeated.
    Atom,
    /// An anchor (`^ $ \A \Z \b \B`): cannot be repeated.
    At,
    /// A repeat: cannot be repeated again.
    Repeat,
}

struct Parser {
    s: Vec<char>,
    i: usize,
    /// The number the next capturing group gets.
    groups: u32,
    /// Capturing groups still open.
    open: Vec<u32>,
    /// Named groups: (name, number).
    names: Vec<(String, u32)>,
    /// Group numbers named by conditionals.
    cond_refs: Vec<u32>,
    verbose: bool,
}

impl Parser {
    fn peek(&self) -> Option<char> {
        self.s.get(self.i).copied()
    }

    fn peek_at(&self, k: usize) -> Option<char> {
        self.s.get(self.i + k).copied()
    }

    fn eat(&mut self, c: char) -> bool {
        if self.peek() == Some(c) {
            self.i += 1;
            true
        } else {
            false
        }
    }

    fn starts_with(&self, lit: &str) -> bool {
        lit.chars().enumerate().all(|(k, c)| self.peek_at(k) == Some(c))
    }

    /// Leading `(?flags)` groups, the only place global flags may appear.
    fn global_flags(&mut self) -> Result<(), String> {
        let mut all = String::new();
        while self.starts_with("(?") {
            if self.starts_with("(?#") {
                // Comments do not end the leading position.
                self.i += 3;
                while self.peek().is_some_and(|c| c != ')') {
                    self.i += 1;
                }
                if !self.eat(')') {
                    return Err("missing ), unterminated comment".into());
                }
                continue;
            }
            let save = self.i;
            self.i += 2;
            let mut flags = String::new();
            while let Some(c) = self.peek().filter(|c| "aiLmsux".contains(*c)) {
                flags.push(c);
                self.i += 1;
            }
            if flags.is_empty() || !self.eat(')') {
                self.i = save;
                return Ok(());
            }
            all.push_str(&flags);
            check_flags(&all, "")?;
            if flags.contains('x') {
                self.verbose = true;
            }
        }
        Ok(())
    }

    fn skip_verbose(&mut self) {
        if !self.verbose {
            return;
        }
        while let Some(c) = self.peek() {
            if c.is_whitespace() {
                self.i += 1;
            } else if c == '#' {
                while let Some(c) = self.peek() {
                    self.i += 1;
                    if c == '\n' {
                        break;
                    }
                }
            } else {
                break;
            }
        }
    }

    /// Branches separated by `|`, up to a `)` or the end. Returns the number of branches.
    fn alternation(&mut self, depth: usize) -> Result<usize, String> {
        let mut branches = 1;
        loop {
            self.sequence(depth)?;
            if self.eat('|') {
                branches += 1;
            } else {
                return Ok(branches);
            }
        }
    }

    fn sequence(&mut self, depth: usize) -> Result<(), String> {
        let mut last: Option<Item> = None;
        loop {
            self.skip_verbose();
            let Some(c) = self.peek() else { return Ok(()) };
            match c {
                '|' => return Ok(()),
                ')' => {
                    if depth == 0 {
                        return Err("unbalanced parenthesis".into());
                    }
                    return Ok(());
                }
                '*' | '+' | '?' => {
                    self.i += 1;
                    self.repeat(last)?;
                    last = Some(Item::Repeat);
                }
                '{' => {
                    if self.bounds()? {
                        self.repeat(last)?;
                        last = Some(Item::Repeat);
                    } else {
                        last = Some(Item::Atom);
                    }
                }
                '^' | '$' => {
                    self.i += 1;
                    last = Some(Item::At);
                }
                '[' => {
                    self.i += 1;
                    self.set()?;
                    last = Some(Item::Atom);
                }
                '(' => {
                    self.i += 1;
                    // A comment group leaves the previous item repeatable.
                    if let Some(item) = self.group(depth)? {
                        last = Some(item);
                    }
                }
                '\\' => {
                    self.i += 1;
                    last = Some(self.escape()?);
                }
                _ => {
                    self.i += 1;
                    last = Some(Item::Atom);
                }
            }
        }
    }

    /// After a repeat operator: what it repeats, then an optional lazy `?` or possessive `+`.
    fn repeat(&mut self, last: Option<Item>) -> Result<(), String> {
        match last {
            None | Some(Item::At) => return Err("nothing to repeat".into()),
            Some(Item::Repeat) => return Err("multiple repeat".into()),
            Some(Item::Atom) => {}
        }
        if !self.eat('?') {
            self.eat('+');
        }
        Ok(())
    }

    /// At `{`: consumes a `{m,n}` repeat and returns true, or consumes the `{` as a literal.
    fn bounds(&mut self) -> Result<bool, String> {
        let start = self.i;
        self.i += 1;
        if self.peek() == Some('}') {
            return Ok(false);
        }
        let lo = self.digits();
        let hi = if self.eat(',') { self.digits() } else { lo.clone() };
        if !self.eat('}') {
            self.i = start + 1;
            return Ok(false);
        }
        let parse = |d: &str| -> Result<Option<u64>, String> {
            if d.is_empty() {
                return Ok(None);
            }
            match d.parse::<u64>() {
                Ok(n) if n < MAXREPEAT => Ok(Some(n)),
                _ => Err("the repetition number is too large".into()),
            }
        };
        let (lo, hi) = (parse(&lo)?, parse(&hi)?);
        if let (Some(lo), Some(hi)) = (lo, hi) {
            if hi < lo {
                return Err("min repeat greater than max repeat".into());
            }
        }
        Ok(true)
    }

    fn digits(&mut self) -> String {
        let mut d = String::new();
        while let Some(c) = self.peek().filter(char::is_ascii_digit) {
            d.push(c);
            self.i += 1;
        }
        d
    }

    fn hex(&mut self, n: usize, what: char) -> Result<u32, String> {
        let mut v = 0u32;
        for _ in 0..n {
            match self.peek().and_then(|c| c.to_digit(16)) {
                Some(d) => {
                    v = v * 16 + d;
                    self.i += 1;
                }
                None => return Err(format!("incomplete escape \\{what}")),
            }
        }
        Ok(v)
    }

    /// The escapes both inside and outside sets: `\x \u \U \N{…}` and the control letters.
    fn common_escape(&mut self, c: char) -> Result<bool, String> {
        match c {
            'a' | 'f' | 'n' | 'r' | 't' | 'v' | 'd' | 'D' | 's' | 'S' | 'w' | 'W' => Ok(true),
            'x' => self.hex(2, 'x').map(|_| true),
            'u' => self.hex(4, 'u').map(|_| true),
            'U' => {
                if self.hex(8, 'U')? > 0x10FFFF {
                    return Err("bad escape \\U".into());
                }
                Ok(true)
            }
            'N' => {
                if !self.eat('{') {
                    return Err("missing {".into());
                }
                let start = self.i;
                while self.peek().is_some_and(|c| c != '}') {
                    self.i += 1;
                }
                if self.i == start || !self.eat('}') {
                    return Err("missing character name".into());
                }
                Ok(true)
            }
            _ => Ok(false),
        }
    }

    /// After `\` outside a set.
    fn escape(&mut self) -> Result<Item, String> {
        let Some(c) = self.peek() else { return Err("bad escape (end of pattern)".into()) };
        self.i += 1;
        if self.common_escape(c)? {
            return Ok(Item::Atom);
        }
        match c {
            'A' | 'Z' | 'b' | 'B' => Ok(Item::At),
            '0' => {
                for _ in 0..2 {
                    if self.peek().is_some_and(|c| c.is_digit(8)) {
                        self.i += 1;
                    }
                }
                Ok(Item::Atom)
            }
            '1'..='9' => {
                let mut number = String::from(c);
                if let Some(d) = self.peek().filter(char::is_ascii_digit) {
                    // Three octal digits make an octal escape.
                    if c.is_digit(8) && d.is_digit(8) && self.peek_at(1).is_some_and(|e| e.is_digit(8)) {
                        let v = u32::from_str_radix(&format!("{c}{d}{}", self.peek_at(1).unwrap_or('0')), 8)
                            .unwrap_or(u32::MAX);
                        self.i += 2;
                        if v > 0o377 {
                            return Err("octal escape value outside of range 0-0o377".into());
                        }
                        return Ok(Item::Atom);
                    }
                    number.push(d);
                    self.i += 1;
                }
                let n: u32 = number.parse().unwrap_or(u32::MAX);
                self.group_ref(n)?;
                Ok(Item::Atom)
            }
            c if c.is_ascii_alphabetic() => Err(format!("bad escape \\{c}")),
            _ => Ok(Item::Atom),
        }
    }

    fn group_ref(&self, n: u32) -> Result<(), String> {
        if n == 0 || n >= self.groups {
            return Err("invalid group reference".into());
        }
        if self.open.contains(&n) {
            return Err("cannot refer to an open group".into());
        }
        Ok(())
    }

    /// After `[`: a character set.
    fn set(&mut self) -> Result<(), String> {
        self.eat('^');
        let mut first = true;
        // The previous member, when it can start a range: Some(code point).
        loop {
            let Some(c) = self.peek() else { return Err("unterminated character set".into()) };
            if c == ']' && !first {
                self.i += 1;
                return Ok(());
            }
            first = false;
            let lo = self.set_member()?;
            if self.peek() == Some('-') && self.peek_at(1).is_some_and(|c| c != ']') {
                self.i += 1;
                if self.peek().is_none() {
                    return Err("unterminated character set".into());
                }
                let hi = self.set_member()?;
                match (lo, hi) {
                    (Some(lo), Some(hi)) if lo <= hi => {}
                    _ => return Err("bad character range".into()),
                }
            }
        }
    }

    /// One member of a set: its code point, or None for a class such as `\d`.
    fn set_member(&mut self) -> Result<Option<u32>, String> {
        let Some(c) = self.peek() else { return Err("unterminated character set".into()) };
        self.i += 1;
        if c != '\\' {
            return Ok(Some(u32::from(c)));
        }
        let Some(e) = self.peek() else { return Err("bad escape (end of pattern)".into()) };
        self.i += 1;
        let start = self.i;
        match e {
            'd' | 'D' | 's' | 'S' | 'w' | 'W' => Ok(None),
            'a' => Ok(Some(7)),
            'b' => Ok(Some(8)),
            'f' => Ok(Some(12)),
            'n' => Ok(Some(10)),
            'r' => Ok(Some(13)),
            't' => Ok(Some(9)),
            'v' => Ok(Some(11)),
            'x' => self.hex(2, 'x').map(Some),
            'u' => self.hex(4, 'u').map(Some),
            'U' => {
                let v = self.hex(8, 'U')?;
                if v > 0x10FFFF {
                    return Err("bad escape \\U".into());
                }
                Ok(Some(v))
            }
            'N' => {
                self.i = start;
                self.common_escape('N')?;
                // The named character's code point cannot be known here; ranges over it pass.
                Ok(Some(0))
            }
            '0'..='7' => {
                let mut v = e.to_digit(8).unwrap_or(0);
                for _ in 0..2 {
                    match self.peek().and_then(|c| c.to_digit(8)) {
                        Some(d) => {
                            v = v * 8 + d;
                            self.i += 1;
                        }
                        None => break,
                    }
                }
                if v > 0o377 {
                    return Err("octal escape value outside of range 0-0o377".into());
                }
                Ok(Some(v))
            }
            c if c.is_ascii_alphanumeric() => Err(format!("bad escape \\{c}")),
            c => Ok(Some(u32::from(c))),
        }
    }

    fn group_name(&mut self, end: char) -> Result<String, String> {
        let mut name = String::new();
        loop {
            match self.peek() {
                None => return Err("missing group name".into()),
                Some(c) if c == end => {
                    self.i += 1;
                    break;
                }
                Some(c) => {
                    name.push(c);
                    self.i += 1;
                }
            }
        }
        if name.is_empty() {
            return Err("missing group name".into());
        }
        if !is_identifier(&name) {
            return Err(format!("bad character in group name '{name}'"));
        }
        Ok(name)
    }

    fn lookup(&self, name: &str) -> Option<u32> {
        self.names.iter().find(|(n, _)| n == name).map(|(_, g)| *g)
    }

    fn close(&mut self, depth: usize) -> Result<(), String> {
        self.alternation(depth + 1)?;
        if !self.eat(')') {
            return Err("missing ), unterminated subpattern".into());
        }
        Ok(())
    }

    fn capture(&mut self, depth: usize, name: Option<String>) -> Result<Option<Item>, String> {
        let n = self.groups;
        self.groups += 1;
        if let Some(name) = name {
            if self.lookup(&name).is_some() {
                return Err(format!("redefinition of group name '{name}'"));
            }
            self.names.push((name, n));
        }
        self.open.push(n);
        self.close(depth)?;
        self.open.retain(|&g| g != n);
        Ok(Some(Item::Atom))
    }

    /// After `(`.
    fn group(&mut self, depth: usize) -> Result<Option<Item>, String> {
        if !self.eat('?') {
            return self.capture(depth, None);
        }
        let Some(c) = self.peek() else { return Err("unexpected end of pattern".into()) };
        self.i += 1;
        match c {
            ':' | '>' | '=' | '!' => {
                self.close(depth)?;
                Ok(Some(Item::Atom))
            }
            '<' => match self.peek() {
                Some('=' | '!') => {
                    self.i += 1;
                    self.close(depth)?;
                    Ok(Some(Item::Atom))
                }
                _ => Err("unknown extension ?<".into()),
            },
            'P' => match self.peek() {
                Some('<') => {
                    self.i += 1;
                    let name = self.group_name('>')?;
                    self.capture(depth, Some(name))
                }
                Some('=') => {
                    self.i += 1;
                    let name = self.group_name(')')?;
                    let n = self.lookup(&name).ok_or_else(|| format!("unknown group name '{name}'"))?;
                    if self.open.contains(&n) {
                        return Err("cannot refer to an open group".into());
                    }
                    Ok(Some(Item::Atom))
                }
                _ => Err("unknown extension ?P".into()),
            },
            '#' => {
                while let Some(c) = self.peek() {
                    self.i += 1;
                    if c == ')' {
                        return Ok(None);
                    }
                }
                Err("missing ), unterminated comment".into())
            }
            '(' => {
                let mut name = String::new();
                loop {
                    match self.peek() {
                        None => return Err("missing ), unterminated name".into()),
                        Some(')') => {
                            self.i += 1;
                            break;
                        }
                        Some(c) => {
                            name.push(c);
                            self.i += 1;
                        }
                    }
                }
                if name.is_empty() {
                    return Err("missing group name".into());
                }
                // A group number or the name of a defined group.
                if name.bytes().all(|b| b.is_ascii_digit()) {
                    let n: u32 = name.parse().unwrap_or(u32::MAX);
                    if n == 0 {
                        return Err("bad group number".into());
                    }
                    self.cond_refs.push(n);
                } else if !is_identifier(&name) {
                    return Err(format!("bad character in group name '{name}'"));
                } else if self.lookup(&name).is_none() {
                    return Err(format!("unknown group name '{name}'"));
                }
                if self.alternation(depth + 1)? > 2 {
                    return Err("conditional backref with more than two branches".into());
                }
                if !self.eat(')') {
                    return Err("missing ), unterminated subpattern".into());
                }
                Ok(Some(Item::Atom))
            }
            c if "aiLmsux-".contains(c) => {
                self.i -= 1;
                let mut on = String::new();
                while let Some(c) = self.peek().filter(|c| "aiLmsux".contains(*c)) {
                    on.push(c);
                    self.i += 1;
                }
                let mut off = String::new();
                if self.eat('-') {
                    while let Some(c) = self.peek().filter(|c| "aiLmsux".contains(*c)) {
                        off.push(c);
                        self.i += 1;
                    }
                    if off.is_empty() {
                        return Err("missing flag".into());
                    }
                }
                match self.peek() {
                    Some(')') if off.is_empty() => {
                        Err("global flags not at the start of the expression".into())
                    }
                    Some(':') => {
                        self.i += 1;
                        check_flags(&on, &off)?;
                        self.close(depth)?;
                        Ok(Some(Item::Atom))
                    }
                    Some(_) => Err("unknown flag".into()),
                    None => Err("missing -, : or )".into()),
                }
            }
            _ => Err(format!("unknown extension ?{c}")),
        }
    }
}

fn check_flags(on: &str, off: &str) -> Result<(), String> {
    if on.contains('L') {
        return Err("bad inline flags: cannot use 'L' flag with a str pattern".into());
    }
    if ["a", "u"].iter().filter(|f| on.contains(**f)).count() > 1 {
        return Err("bad inline flags: flags 'a', 'u' and 'L' are incompatible".into());
    }
    if off.chars().any(|c| "aLu".contains(c)) {
        return Err("bad inline flags: cannot turn off flags 'a', 'u' and 'L'".into());
    }
    if on.chars().any(|c| off.contains(c)) {
        return Err("bad inline flags: flag turned on and off".into());
    }
    Ok(())
}

/// Python's `str.isidentifier`, approximated: a letter or `_`, then letters, digits or `_`.
fn is_identifier(s: &str) -> bool {
    let mut chars = s.chars();
    chars.next().is_some_and(|c| c == '_' || c.is_alphabetic())
        && chars.all(|c| c == '_' || c.is_alphanumeric())
}

#[cfg(test)]
mod tests {
    use super::check;

    #[test]
    fn python_accepts() {
        for ok in [
            "",
            "^0x[0-9a-fA-F]{40}$",
            ".*",
            "a{,5}",
            "a{}",
            "a{2,",
            "x{,}",
            "(?i)abc",
            "(?x) a b # comment\n c",
            "(?P<n>a)(?P=n)",
            "(a)\\1",
            "(?:a|b)+?",
            "a*+",
            "(?=a)b",
            "(?<!a)b",
            "(?#comment)a",
            "(a)?(?(1)b|c)",
            "[]a]",
            "[^]]",
            "[a-]",
            "[\\d-]",
            "a(?#x)*",
            "(?i)(?m)a",
            "(?=a)*",
            "()*",
            "(a)(b)(c)(d)(e)(f)(g)(h)(i)(j)\\10",
            "\\N{LATIN SMALL LETTER A}",
            "\\.",
            "\\x41\\u0041\\U00000041",
            "(?i:a)",
            "(?-i:a)",
            "\\0\\012",
            "[\\0-\\177]",
            "é+",
            "(?>a+)b",
            "(?#c)(?i)a",
            "(?(1)a|b)(c)",
        ] {
            assert_eq!(check(ok), Ok(()), "{ok:?}");
        }
    }

    #[test]
    fn python_refuses() {
        for bad in [
            "(",
            ")",
            "a)",
            "[a",
            "[",
            "*a",
            "a**",
            "a{3,2}",
            "^*",
            "\\b+",
            "a|*",
            "(*)",
            "\\q",
            "\\",
            "[\\q]",
            "[z-a]",
            "[\\d-z]x",
            "\\x4",
            "(?P<1a>x)",
            "(?P<n>a)(?P<n>b)",
            "(?P=n)",
            "\\1",
            "(a\\1)",
            "(?<n>a)",
            "(?Q)",
            "a(?i)",
            "(?L:a)",
            "(?au:a)",
            "(?-u:a)",
            "(?#never closed",
            "(a)(?(1)b|c|d)",
            "a{99999999999}",
            "[a-\\d]",
            "\\8",
            "\\99",
            "\\777",
            "[\\777]",
            "[\\8]",
            "a{2}{3}",
            "\\Z*",
            "$*",
            "a{1,2}?+",
            "(?(n)a)",
            "(?i-m)a",
            "(?a)(?u)a",
            "(?(1)a)",
            "(?(0)a)",
        ] {
            assert!(check(bad).is_err(), "{bad:?}");
        }
    }
}
