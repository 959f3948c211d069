// The abstract syntax tree of a .moe file. Every node carries a half-open source range
// [start, end) in UTF-16 code units of the file text (Architecture invariant: ranges are never
// inclusive past this module; the parser converts chevrotain's inclusive end offsets once).

export interface Span {
  start: number;
  end: number;
}

export interface Ident {
  kind: "Ident";
  name: string;
  span: Span;
}

// ---------- expressions ----------

export interface NumberLit {
  kind: "Number";
  value: number;
  isFloat: boolean;
  text: string;
  span: Span;
}
export interface StringLit {
  kind: "String";
  value: string;
  span: Span;
}
export interface BoolLit {
  kind: "Bool";
  value: boolean;
  span: Span;
}
/** Every `Name` and `Name(args)`: the checker decides what it is (LANGUAGE.md §1). */
export interface Call {
  kind: "Call";
  callee: Ident;
  /** undefined for a bare name, [] for `Name()`. */
  args: Arg[] | undefined;
  span: Span;
}
export interface Arg {
  name: Ident | undefined;
  value: Expr;
  span: Span;
}
export type BinaryOp = "+" | "-" | "*" | "/" | "|>" | "->";
export interface Binary {
  kind: "Binary";
  op: BinaryOp;
  left: Expr;
  right: Expr;
  opSpan: Span;
  span: Span;
}
export interface Unary {
  kind: "Unary";
  op: "-";
  operand: Expr;
  span: Span;
}
export interface ListExpr {
  kind: "List";
  items: Expr[];
  span: Span;
}
export interface RecordExpr {
  kind: "Record";
  fields: { name: Ident; value: Expr; span: Span }[];
  span: Span;
}
/** Stands where the parser recovered from an error; checkers skip it silently. */
export interface ErrorExpr {
  kind: "ErrorExpr";
  span: Span;
}
export type Expr = NumberLit | StringLit | BoolLit | Call | Binary | Unary | ListExpr | RecordExpr | ErrorExpr;

// ---------- statements ----------

export interface PoolDecl {
  kind: "PoolDecl";
  shared: boolean;
  name: Ident;
  /** `E[N]`; undefined for a heterogeneous pool `experts E = [...]`. */
  count: Expr | undefined;
  expert: Expr;
  split: Expr | undefined;
  keywordSpan: Span;
  span: Span;
}
export interface RouterDecl {
  kind: "RouterDecl";
  name: Ident;
  pipeline: Expr;
  per: Ident | undefined;
  keywordSpan: Span;
  span: Span;
}
export interface LetStmt {
  kind: "Let";
  name: Ident;
  value: Expr;
  span: Span;
}
export interface AssignStmt {
  kind: "Assign";
  name: Ident;
  value: Expr;
  span: Span;
}
export interface IterateStmt {
  kind: "Iterate";
  count: Expr;
  body: Stmt[];
  keywordSpan: Span;
  span: Span;
}
export interface RepeatStmt {
  kind: "Repeat";
  count: Expr;
  as: Ident;
  from: Expr | undefined;
  body: Stmt[];
  keywordSpan: Span;
  span: Span;
}
export interface LossStmt {
  kind: "Loss";
  call: Call;
  span: Span;
}
export interface ReportStmt {
  kind: "Report";
  names: Ident[];
  span: Span;
}
export interface ReturnStmt {
  kind: "Return";
  value: Expr;
  span: Span;
}
export type Stmt = PoolDecl | RouterDecl | LetStmt | AssignStmt | IterateStmt | RepeatStmt | LossStmt | ReportStmt | ReturnStmt;

// ---------- declarations ----------

export interface TensorParam {
  kind: "TensorParam";
  name: Ident;
  dims: Expr[];
  span: Span;
}
export interface HyperParam {
  kind: "HyperParam";
  name: Ident;
  default: Expr | undefined;
  span: Span;
}
export type Param = TensorParam | HyperParam;

export interface ImportDecl {
  kind: "Import";
  names: Ident[];
  from: StringLit;
  span: Span;
}
export interface ConstDecl {
  kind: "Const";
  name: Ident;
  value: Expr;
  span: Span;
}
export interface LayerDecl {
  kind: "Layer" | "Model";
  name: Ident;
  params: Param[];
  body: Stmt[];
  /** The closing brace, where "missing return" is reported. */
  endSpan: Span;
  span: Span;
  /** The parser dropped a statement of the body (or the whole body) while recovering from a syntax error. */
  recovered?: boolean;
}
export interface GraphDecl {
  kind: "Graph";
  name: Ident;
  params: Param[];
  topology: Expr;
  span: Span;
}
export type Decl = ImportDecl | ConstDecl | LayerDecl | GraphDecl;

export interface Comment {
  text: string;
  block: boolean;
  span: Span;
}

export interface Program {
  kind: "Program";
  decls: Decl[];
  comments: Comment[];
  span: Span;
}
