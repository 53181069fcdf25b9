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
/// not (empty if nothing). Refused: items that reach outside the function (`mod`, `extern`
/// blocks and crates, `#[path]`, symbol attributes), `macro_rules!`, the macros that read
/// files or the build's environment (`include!`, `include_str!`, `include_bytes!`, `env!`,
/// `option_env!`), assembly, `std::process` (`exit`, `abort`, `Command`), through which
/// code could end the test process with a status of its choosing, and `std::fs`, through
/// which it could rewrite the grading's files while it runs.
pub fn escapes(body: &str) -> Vec<String> {
    let block: Block = match syn::parse_str(body) {
        Ok(block) => block,
        Err(error) => {
            return vec![format!("the body does not parse: {}", describe_syn_error(&error))];
        }
    };
    let mut visitor = Escapes { found: Vec::new() };
    visitor.visit_block(&block);
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

const REFUSED_MACROS: &[&str] = &[
    "include",
    "include_str",
    "include_bytes",
    "env",
    "option_env",
    "macro_rules",
    "asm",
    "global_asm",
    "naked_asm",
];

const REFUSED_ATTRIBUTES: &[&str] =
    &["path", "no_mangle", "export_name", "link", "link_name", "link_section", "used"];

impl Escapes {
    fn refuse(&mut self, line: usize, what: impl fmt::Display) {
        self.found.push(format!("line {line} of the body: {what}"));
    }
}

impl Escapes {
    /// Refused macros (`name !`) and modules (`process ::`, `fs ::`) among raw tokens.
    fn scan_tokens(&mut self, tokens: proc_macro2::TokenStream) {
        let trees: Vec<proc_macro2::TokenTree> = tokens.into_iter().collect();
        for (index, tree) in trees.iter().enumerate() {
            match tree {
                proc_macro2::TokenTree::Group(group) => self.scan_tokens(group.stream()),
                proc_macro2::TokenTree::Ident(ident) => {
                    let next = trees.get(index + 1);
                    let bang = matches!(next, Some(proc_macro2::TokenTree::Punct(p)) if p.as_char() == '!');
                    let colon = matches!(next, Some(proc_macro2::TokenTree::Punct(p)) if p.as_char() == ':');
                    let name = ident.to_string();
                    let line = ident.span().start().line;
                    if bang && REFUSED_MACROS.contains(&name.as_str()) {
                        self.refuse(line, format_args!("the macro `{name}!`"));
                    } else if colon {
                        if let Some(what) = refused_module(ident) {
                            self.refuse(line, what);
                        }
                    }
                }
                _ => {}
            }
        }
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
        let inner = if path.is_ident("unsafe") {
            // `#[unsafe(no_mangle)]`
            node.parse_args::<syn::Path>().ok()
        } else {
            Some(path.clone())
        };
        if let Some(name) = inner.as_ref().and_then(|p| p.get_ident()).map(ToString::to_string) {
            if REFUSED_ATTRIBUTES.contains(&name.as_str()) {
                self.refuse(node.span().start().line, format_args!("the attribute `#[{name}]`"));
            }
        }
        visit::visit_attribute(self, node);
    }

    fn visit_macro(&mut self, node: &'ast syn::Macro) {
        if let Some(last) = node.path.segments.last() {
            let name = last.ident.to_string();
            if REFUSED_MACROS.contains(&name.as_str()) {
                self.refuse(node.span().start().line, format_args!("the macro `{name}!`"));
            }
        }
        // Macro arguments are tokens, not syntax: scan the tokens themselves (whatever the
        // macro), then look inside the ones that parse as expressions (format!, assert!...).
        self.scan_tokens(node.tokens.clone());
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

    fn visit_path(&mut self, node: &'ast syn::Path) {
        let leading = node.segments.len().saturating_sub(1);
        for segment in node.segments.iter().take(leading) {
            if let Some(what) = refused_module(&segment.ident) {
                self.refuse(node.span().start().line, what);
            }
        }
        visit::visit_path(self, node);
    }

    fn visit_use_tree(&mut self, node: &'ast syn::UseTree) {
        let named = match node {
            syn::UseTree::Path(p) => Some(&p.ident),
            syn::UseTree::Name(n) => Some(&n.ident),
            syn::UseTree::Rename(r) => Some(&r.ident),
            _ => None,
        };
        if let Some(what) = named.and_then(refused_module) {
            self.refuse(node.span().start().line, what);
        }
        visit::visit_use_tree(self, node);
    }
}

/// The modules a body may not use, and what to say: `std::process` (a test process could end
/// itself with the status it likes) and `std::fs` (it could rewrite the grading's own files,
/// such as the test binary, while it runs).
fn refused_module(ident: &proc_macro2::Ident) -> Option<&'static str> {
    if ident == "process" {
        Some("`std::process` (exit, abort, Command)")
    } else if ident == "fs" {
        Some("`std::fs` (files: the exercises are about sockets)")
    } else {
        None
    }
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
