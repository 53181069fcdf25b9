//! Finding exercise functions by parsing (with `syn`), and moving function bodies between
//! files: a submission's bodies of the marked functions go into the reference, nothing else.
//!
//! An exercise is named by its file and its item path: `reply_to` in `src/server.rs`,
//! `ClientTable::record` in `src/table.rs`, `<Handler as Job>::run` for a trait impl, and
//! `inner::f` inside `mod inner { ... }`. A body is moved as source text (from its `{` to its
//! `}`), so comments and formatting survive and compiler errors point at the student's lines.

use std::fmt;

use proc_macro2::LineColumn;
use syn::spanned::Spanned;
use syn::visit::{self, Visit};
use syn::{Block, FnArg, ImplItem, Item, Pat, Type};

/// One function found in a file: its path and where its body is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FnBody {
    /// `name`, `Type::name`, `<Type as Trait>::name`, with `module::` for inline modules.
    pub path: String,
    /// Byte range of the body, braces included.
    pub start: usize,
    /// End of the body (exclusive), after its `}`.
    pub end: usize,
    /// The body's first and last lines, counting from 1.
    pub lines: (usize, usize),
    /// The names the parameters bind (not `self`, not `_`-prefixed), in order.
    pub params: Vec<String>,
}

/// Why a body cannot be taken from a file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TakeError {
    /// The file does not parse as Rust.
    Unparsable(String),
    /// No function with that path.
    Missing,
}

impl fmt::Display for TakeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TakeError::Unparsable(error) => write!(f, "the file does not parse: {error}"),
            TakeError::Missing => f.write_str("the function is not there"),
        }
    }
}

/// Every function of `text` that has a body: free functions, methods of inherent and trait
/// impls, and provided methods of traits, recursively through inline modules (functions
/// inside function bodies are not listed).
pub fn functions(text: &str) -> Result<Vec<FnBody>, String> {
    let file = syn::parse_file(text).map_err(|e| describe_syn_error(&e))?;
    let offsets = LineOffsets::new(text);
    let mut found = Vec::new();
    collect(&file.items, "", &offsets, &mut found);
    Ok(found)
}

/// The innermost function of `text` whose body contains line `line` (counting from 1).
pub fn function_at_line(text: &str, line: usize) -> Result<Option<FnBody>, String> {
    Ok(functions(text)?
        .into_iter()
        .filter(|f| f.lines.0 <= line && line <= f.lines.1)
        .min_by_key(|f| f.end - f.start))
}

/// The body (braces included) of the function at `path` in `text`.
pub fn take_body<'a>(text: &'a str, path: &str) -> Result<&'a str, TakeError> {
    let found = functions(text).map_err(TakeError::Unparsable)?;
    let body = found.iter().find(|f| f.path == path).ok_or(TakeError::Missing)?;
    Ok(&text[body.start..body.end])
}

/// `text` with the bodies of the functions in `replacements` (path, new body with braces)
/// replaced. Every path must be in `text`.
pub fn replace_bodies(text: &str, replacements: &[(String, String)]) -> Result<String, String> {
    let found = functions(text)?;
    let mut edits: Vec<(usize, usize, &str)> = Vec::new();
    for (path, body) in replacements {
        let f = found
            .iter()
            .find(|f| &f.path == path)
            .ok_or_else(|| format!("no function `{path}` in the reference"))?;
        edits.push((f.start, f.end, body));
    }
    edits.sort_by_key(|(start, _, _)| std::cmp::Reverse(*start));
    let mut out = text.to_string();
    for (start, end, body) in edits {
        out.replace_range(start..end, body);
    }
    Ok(out)
}

/// Checks a body before it is put into the reference: returns what it does that a body may
/// not (empty if nothing). Refused here, by syntax: items that reach outside the function
/// (`mod`, `extern` blocks and crates, `macro_rules!`), assembly, and attributes other than
/// inert ones ([`ALLOWED_ATTRIBUTES`]; `#[derive]` only of std's traits, and no `use` that
/// could give another derive one of their names). What a name resolves to (files,
/// processes, the environment, `include_str!`...) is checked by the compiler instead: see
/// [`crate::refusals`].
pub fn escapes(body: &str) -> Vec<String> {
    // A function body may open with inner attributes (`#![allow(...)]`), which
    // `syn::Block` does not take: read them first.
    let parser = |input: syn::parse::ParseStream<'_>| {
        let content;
        syn::braced!(content in input);
        let inner = content.call(syn::Attribute::parse_inner)?;
        let statements = content.call(Block::parse_within)?;
        Ok((inner, statements))
    };
    let (inner, statements) = match syn::parse::Parser::parse_str(parser, body) {
        Ok(parsed) => parsed,
        Err(error) => {
            return vec![format!("the body does not parse: {}", describe_syn_error(&error))];
        }
    };
    let mut visitor = Escapes { found: Vec::new() };
    for attribute in &inner {
        visitor.visit_attribute(attribute);
    }
    for statement in &statements {
        visitor.visit_stmt(statement);
    }
    let mut found = visitor.found;
    found.sort();
    found.dedup();
    found
}

/// A syn error with its line and column.
fn describe_syn_error(error: &syn::Error) -> String {
    let start = error.span().start();
    format!("line {}, column {}: {error}", start.line, start.column + 1)
}

struct Escapes {
    found: Vec<String>,
}

/// Macros that define items outside the function or are not Rust.
const REFUSED_MACROS: &[&str] = &["macro_rules", "asm", "global_asm", "naked_asm"];

/// The attributes a body may carry: lint levels, hints, docs and tool attributes do not
/// run code. Anything else (attribute macros, `#[path]`, `#[no_mangle]`, `cfg_attr`, which
/// could add any of them) is refused.
pub const ALLOWED_ATTRIBUTES: &[&str] = &[
    "allow", "expect", "warn", "deny", "forbid", "must_use", "inline", "cold", "doc", "derive",
    "cfg",
];

/// The derives a body may use: std's, whose expansion runs none of the body's code.
const ALLOWED_DERIVES: &[&str] =
    &["Debug", "Clone", "Copy", "PartialEq", "Eq", "PartialOrd", "Ord", "Hash", "Default"];

impl Escapes {
    fn refuse(&mut self, line: usize, what: impl fmt::Display) {
        self.found.push(format!("line {line} of the body: {what}"));
    }
}

impl<'ast> Visit<'ast> for Escapes {
    fn visit_item_mod(&mut self, node: &'ast syn::ItemMod) {
        self.refuse(node.span().start().line, "a `mod` item (write helpers as inner functions)");
        visit::visit_item_mod(self, node);
    }

    fn visit_item_foreign_mod(&mut self, node: &'ast syn::ItemForeignMod) {
        self.refuse(node.span().start().line, "an `extern` block");
    }

    fn visit_item_extern_crate(&mut self, node: &'ast syn::ItemExternCrate) {
        self.refuse(node.span().start().line, "an `extern crate`");
    }

    fn visit_attribute(&mut self, node: &'ast syn::Attribute) {
        let path = node.path();
        let line = node.span().start().line;
        let tool =
            path.segments.len() == 2 && path.segments.first().is_some_and(|s| s.ident == "rustfmt");
        let name = path.get_ident().map(ToString::to_string);
        match name.as_deref() {
            Some("derive") => {
                let derived = node.parse_args_with(
                    syn::punctuated::Punctuated::<syn::Path, syn::Token![,]>::parse_terminated,
                );
                let all_std = derived.as_ref().is_ok_and(|paths| {
                    paths.iter().all(|p| {
                        p.get_ident()
                            .is_some_and(|i| ALLOWED_DERIVES.contains(&i.to_string().as_str()))
                    })
                });
                if !all_std {
                    self.refuse(
                        line,
                        format_args!(
                            "a derive other than std's ({}): derive macros can run code the \
                             grading does not see",
                            ALLOWED_DERIVES.join(", ")
                        ),
                    );
                }
            }
            Some("allow" | "expect" | "warn") if mentions_clippy(node) => self.refuse(
                line,
                "a lint attribute naming clippy (the grading's checks run through clippy)",
            ),
            Some(name) if ALLOWED_ATTRIBUTES.contains(&name) => {}
            _ if tool => {}
            _ => {
                let shown = path
                    .segments
                    .iter()
                    .map(|s| s.ident.to_string())
                    .collect::<Vec<_>>()
                    .join("::");
                self.refuse(line, format_args!("the attribute `#[{shown}]`"));
            }
        }
        // The attribute's own tokens are not walked: they are refused, or inert.
    }

    fn visit_path(&mut self, node: &'ast syn::Path) {
        if let Some(first) = node.segments.first() {
            test_only_crate(self, &first.ident);
        }
        visit::visit_path(self, node);
    }

    fn visit_use_tree(&mut self, node: &'ast syn::UseTree) {
        if let syn::UseTree::Path(syn::UsePath { ident, .. })
        | syn::UseTree::Name(syn::UseName { ident })
        | syn::UseTree::Rename(syn::UseRename { ident, .. }) = node
        {
            test_only_crate(self, ident);
        }
        // `use clap::Parser as Debug;` would make `#[derive(Debug)]` clap's.
        let bound = match node {
            syn::UseTree::Name(n) => Some(&n.ident),
            syn::UseTree::Rename(r) => Some(&r.rename),
            _ => None,
        };
        if let Some(ident) = bound {
            let name = ident.to_string();
            if ALLOWED_DERIVES.contains(&name.trim_start_matches("r#")) {
                self.refuse(
                    node.span().start().line,
                    format_args!("a `use` that binds `{name}` (a name derives rely on)"),
                );
            }
        }
        visit::visit_use_tree(self, node);
    }

    fn visit_macro(&mut self, node: &'ast syn::Macro) {
        if let Some(last) = node.path.segments.last() {
            let name = last.ident.to_string();
            if REFUSED_MACROS.contains(&name.trim_start_matches("r#")) {
                self.refuse(node.span().start().line, format_args!("the macro `{name}!`"));
            }
        }
        // Macro arguments are tokens, not syntax: look inside the ones that parse as
        // expressions (format!, assert!...) or statements, for items and attributes.
        if let Ok(args) = node.parse_body_with(
            syn::punctuated::Punctuated::<syn::Expr, syn::Token![,]>::parse_terminated,
        ) {
            for arg in &args {
                self.visit_expr(arg);
            }
        } else if let Ok(block) = syn::parse2::<Block>(quote_braced(&node.tokens)) {
            self.visit_block(&block);
        }
        visit::visit_macro(self, node);
    }
}

/// Refuses a name of one of the grading suites' own crates ([`crate::refusals::TEST_ONLY_CRATES`]).
fn test_only_crate(escapes: &mut Escapes, ident: &proc_macro2::Ident) {
    let name = ident.to_string();
    let name = name.trim_start_matches("r#");
    if crate::refusals::TEST_ONLY_CRATES.contains(&name) {
        escapes.refuse(
            ident.span().start().line,
            format_args!("`{name}`: the grading suite's own tools are not for the exercises"),
        );
    }
}

/// Whether an attribute's arguments name `clippy` (a lint or a group of its).
fn mentions_clippy(attribute: &syn::Attribute) -> bool {
    fn walk(tokens: proc_macro2::TokenStream) -> bool {
        tokens.into_iter().any(|tree| match tree {
            proc_macro2::TokenTree::Ident(ident) => {
                ident.to_string().trim_start_matches("r#") == "clippy"
            }
            proc_macro2::TokenTree::Group(group) => walk(group.stream()),
            _ => false,
        })
    }
    match &attribute.meta {
        syn::Meta::List(list) => walk(list.tokens.clone()),
        _ => false,
    }
}

/// The deepest bracket nesting a student's file may have: far more than any honest code,
/// far less than what overflows the parser's stack.
pub const MAX_NESTING: usize = 100;

/// How deeply `text`'s brackets nest, found without recursion (a file nested thousands deep
/// must be refused, not overflow the stack that looks at it); an error if it does not even
/// split into tokens.
pub fn nesting_depth(text: &str) -> Result<usize, String> {
    let tokens: proc_macro2::TokenStream = text
        .parse()
        .map_err(|e: proc_macro2::LexError| format!("it does not split into Rust tokens: {e}"))?;
    let mut deepest = 0;
    let mut open = vec![tokens.into_iter()];
    while let Some(top) = open.last_mut() {
        match top.next() {
            Some(proc_macro2::TokenTree::Group(group)) => {
                open.push(group.stream().into_iter());
                deepest = deepest.max(open.len() - 1);
            }
            Some(_) => {}
            None => {
                open.pop();
            }
        }
    }
    Ok(deepest)
}

/// Runs `work` on a thread with a large stack (the parser recurses once per nesting level),
/// catching a panic: `None` if it panicked or the thread could not start.
pub fn on_big_stack<T: Send>(work: impl FnOnce() -> T + Send) -> Option<T> {
    std::thread::scope(|scope| {
        std::thread::Builder::new()
            .name("parse".into())
            .stack_size(256 << 20)
            .spawn_scoped(scope, work)
            .ok()?
            .join()
            .ok()
    })
}

/// Macro tokens wrapped in braces, to try them as a block of statements.
fn quote_braced(tokens: &proc_macro2::TokenStream) -> proc_macro2::TokenStream {
    let group = proc_macro2::Group::new(proc_macro2::Delimiter::Brace, tokens.clone());
    proc_macro2::TokenTree::Group(group).into()
}

fn collect(items: &[Item], prefix: &str, offsets: &LineOffsets<'_>, found: &mut Vec<FnBody>) {
    for item in items {
        match item {
            Item::Fn(f) => {
                found.push(body(format!("{prefix}{}", f.sig.ident), &f.sig, &f.block, offsets));
            }
            Item::Impl(imp) => {
                let self_ty = type_name(&imp.self_ty);
                let owner = match &imp.trait_ {
                    Some((path, _)) => {
                        let tr =
                            path.segments.last().map(|s| s.ident.to_string()).unwrap_or_default();
                        format!("<{self_ty} as {tr}>")
                    }
                    None => self_ty,
                };
                for member in &imp.items {
                    if let ImplItem::Fn(f) = member {
                        let path = format!("{prefix}{owner}::{}", f.sig.ident);
                        found.push(body(path, &f.sig, &f.block, offsets));
                    }
                }
            }
            Item::Trait(tr) => {
                for member in &tr.items {
                    if let syn::TraitItem::Fn(f) = member {
                        if let Some(block) = &f.default {
                            let path = format!("{prefix}{}::{}", tr.ident, f.sig.ident);
                            found.push(body(path, &f.sig, block, offsets));
                        }
                    }
                }
            }
            Item::Mod(m) => {
                if let Some((_, items)) = &m.content {
                    collect(items, &format!("{prefix}{}::", m.ident), offsets, found);
                }
            }
            _ => {}
        }
    }
}

fn type_name(ty: &Type) -> String {
    match ty {
        Type::Path(p) => p.path.segments.last().map(|s| s.ident.to_string()).unwrap_or_default(),
        Type::Reference(r) => type_name(&r.elem),
        _ => "_".to_string(),
    }
}

fn body(path: String, sig: &syn::Signature, block: &Block, offsets: &LineOffsets<'_>) -> FnBody {
    let open = block.brace_token.span.open().start();
    let close = block.brace_token.span.close().end();
    let mut params = Vec::new();
    for input in &sig.inputs {
        if let FnArg::Typed(typed) = input {
            bound_names(&typed.pat, &mut params);
        }
    }
    FnBody {
        path,
        start: offsets.offset(open),
        end: offsets.offset(close),
        lines: (open.line, close.line),
        params,
    }
}

fn bound_names(pat: &Pat, names: &mut Vec<String>) {
    match pat {
        Pat::Ident(p) => {
            let name = p.ident.to_string();
            if !name.starts_with('_') {
                names.push(name);
            }
        }
        Pat::Tuple(t) => t.elems.iter().for_each(|p| bound_names(p, names)),
        Pat::TupleStruct(t) => t.elems.iter().for_each(|p| bound_names(p, names)),
        Pat::Struct(s) => s.fields.iter().for_each(|f| bound_names(&f.pat, names)),
        Pat::Reference(r) => bound_names(&r.pat, names),
        Pat::Type(t) => bound_names(&t.pat, names),
        _ => {}
    }
}

/// Byte offsets of line starts, to turn a span's line and column (in characters) into a
/// byte offset.
struct LineOffsets<'a> {
    text: &'a str,
    starts: Vec<usize>,
}

impl<'a> LineOffsets<'a> {
    fn new(text: &'a str) -> Self {
        let mut starts = vec![0];
        starts.extend(text.match_indices('\n').map(|(i, _)| i + 1));
        LineOffsets { text, starts }
    }

    fn offset(&self, at: LineColumn) -> usize {
        let start = self.starts.get(at.line.saturating_sub(1)).copied().unwrap_or(self.text.len());
        let line = &self.text[start..];
        start + line.char_indices().nth(at.column).map_or(line.len(), |(i, _)| i)
    }
}
