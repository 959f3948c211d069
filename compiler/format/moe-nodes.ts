// The node shapes the .moe printer walks: the parser's AST plus the two keyless shapes (call
// arguments and record fields) and comments as Prettier decorates them.
import type * as A from "../syntax/ast.js";

export type RecordField = A.RecordExpr["fields"][number];

/** A comment as Prettier sees it: `value` is what Prettier names in its own error messages. */
export interface MoeComment extends A.Comment {
  value: string;
  leading?: boolean;
  trailing?: boolean;
  printed?: boolean;
  marker?: string;
  /** Set by Prettier's attachment pass. */
  placement?: "ownLine" | "endOfLine" | "remaining";
}

/** A lexer token, kept so comment placement can see the keywords and punctuation between nodes. */
export interface SourceToken {
  image: string;
  start: number;
  end: number;
}

/** The root as the printer sees it; Prettier detaches `comments` before printing. */
export type MoeProgram = Omit<A.Program, "comments"> & {
  comments?: MoeComment[];
  /** Every comment (Prettier detaches `comments` from the root before placing them). */
  allComments: MoeComment[];
  /** The tokens without grouping parentheses, which the printer re-derives. */
  tokens: SourceToken[];
  /** The right-hand operands of binary operators (comment placement needs to know them). */
  rightOperands: WeakSet<A.Expr>;
};

export type MoeNode =
  | MoeProgram
  | A.Decl
  | A.Stmt
  | A.Expr
  | A.Param
  | A.Ident
  | A.Arg
  | RecordField
  | MoeComment;

/** Every printable node, after Prettier has attached comments to it. */
export type WithComments<T> = T & { comments?: MoeComment[] };

export function isComment(node: MoeNode): node is MoeComment {
  return !("kind" in node) && "block" in node && "text" in node;
}

/** Arguments and record fields carry no `kind`; everything else does. */
export function kindOf(node: MoeNode): string {
  if ("kind" in node) return node.kind;
  if (isComment(node)) return "Comment";
  return "ArgOrField";
}

const KEYS: Record<string, readonly string[]> = {
  Program: ["decls"],
  Import: ["names", "from"],
  Const: ["name", "value"],
  Layer: ["name", "params", "body"],
  Model: ["name", "params", "body"],
  Graph: ["name", "params", "topology"],
  TensorParam: ["name", "dims"],
  HyperParam: ["name", "default"],
  PoolDecl: ["name", "count", "expert", "split"],
  RouterDecl: ["name", "pipeline", "per"],
  Let: ["name", "value"],
  Assign: ["name", "value"],
  Iterate: ["count", "body"],
  Repeat: ["count", "as", "from", "body"],
  Loss: ["call"],
  Report: ["names"],
  Return: ["value"],
  Call: ["callee", "args"],
  ArgOrField: ["name", "value"],
  Binary: ["left", "right"],
  Unary: ["operand"],
  List: ["items"],
  Record: ["fields"],
};

/** Child properties in source order (Prettier walks these to place comments). */
export function visitorKeys(node: MoeNode): readonly string[] {
  return KEYS[kindOf(node)] ?? [];
}

/** Every node below `root`, depth first, in source order. */
export function* descendants(root: MoeNode): Generator<MoeNode> {
  for (const key of visitorKeys(root)) {
    const value = (root as unknown as Record<string, unknown>)[key];
    for (const child of Array.isArray(value) ? value : [value]) {
      if (child && typeof child === "object") {
        yield child as MoeNode;
        yield* descendants(child as MoeNode);
      }
    }
  }
}
