// The .moe grammar (LANGUAGE.md §1–§13) as one chevrotain parser that builds the AST directly.
// LL(2): the contextual keywords (`experts`, `router`, …) start a statement only when a name
// follows them, so `experts = x` is an assignment and `experts experts[8] = …` a pool.
// One file on purpose, though over 500 lines: a chevrotain grammar is one class whose rules are
// fields calling each other through `this`, and `performSelfAnalysis` must see every rule on it.
import { EmbeddedActionsParser, EOF, type IToken, type TokenType, type IRecognitionException } from "chevrotain";
import * as T from "./tokens.js";
import type * as A from "./ast.js";

const NO_SPAN: A.Span = { start: 0, end: 0 };

export class MoeParser extends EmbeddedActionsParser {
  /** Statements dropped by error recovery so far (a layer compares it before and after its body). */
  private lostStatements = 0;
  /** Names of the named arguments being parsed, innermost last (for recovery inside a value). */
  private namedArgs: IToken[] = [];
  /** Declarations completed so far in this parse. */
  private parsedDecls: A.Decl[] = [];

  constructor() {
    super(T.allTokens, { recoveryEnabled: true, maxLookahead: 2 });
    this.performSelfAnalysis();
  }

  // ---- helpers (all guarded: chevrotain records the grammar by running rules with fake tokens) ----

  private sp(first: IToken, last?: IToken): A.Span {
    const end = last ?? this.LA(0);
    const s = Number.isFinite(first.startOffset) ? first.startOffset : (Number.isFinite(end.startOffset) ? end.startOffset : 0);
    const e = Number.isFinite(end.endOffset ?? NaN) ? (end.endOffset as number) + 1 : s;
    return { start: s, end: Math.max(s, e) };
  }
  private ident(t: IToken): A.Ident {
    return { kind: "Ident", name: t.image, span: this.sp(t, t) };
  }
  private join(a: A.Span | undefined, b: A.Span | undefined): A.Span {
    if (!a) return b ?? NO_SPAN;
    if (!b) return a;
    return { start: Math.min(a.start, b.start), end: Math.max(a.end, b.end) };
  }
  private errorExpr(): A.ErrorExpr {
    const t = this.LA(1);
    const s = Number.isFinite(t.startOffset) ? t.startOffset : 0;
    return { kind: "ErrorExpr", span: { start: s, end: s } };
  }
  private isNext(type: TokenType, k = 1): boolean {
    return this.LA(k).tokenType === type;
  }
  private isNameAt(k: number): boolean {
    const tt = this.LA(k).tokenType;
    return tt === T.Identifier || (tt.CATEGORIES ?? []).includes(T.Identifier);
  }

  // ---- top level ----

  public program = this.RULE("program", (): A.Program => {
    const decls: A.Decl[] = [];
    this.ACTION(() => {
      this.namedArgs.length = 0;
      this.parsedDecls = decls;
    });
    this.MANY(() => {
      const d = this.SUBRULE(this.declaration);
      this.ACTION(() => { if (d) decls.push(d); });
    });
    return { kind: "Program", decls, comments: [], span: NO_SPAN };
  }, {
    // Only the end of the file resyncs at this level (e.g. `return f(x` at the very end): keep the
    // declarations read so far instead of losing the whole file.
    recoveryValueFunc: (): A.Program => ({ kind: "Program", decls: [...this.parsedDecls], comments: [], span: NO_SPAN }),
  });

  private declaration = this.RULE("declaration", (): A.Decl => {
    return this.OR([
      { ALT: () => this.SUBRULE(this.importDecl) },
      { ALT: () => this.SUBRULE(this.constDecl) },
      { ALT: () => this.SUBRULE(this.layerDecl) },
      { ALT: () => this.SUBRULE(this.graphDecl) },
    ]);
  }, { recoveryValueFunc: () => undefined as unknown as A.Decl });

  private importDecl = this.RULE("importDecl", (): A.ImportDecl => {
    const kw = this.CONSUME(T.Import);
    this.CONSUME(T.LBrace);
    const names: A.Ident[] = [];
    this.OPTION(() => {
      const first = this.CONSUME(T.Identifier);
      this.ACTION(() => names.push(this.ident(first)));
      this.MANY({
        GATE: () => !this.isNext(T.RBrace, 2),
        DEF: () => {
          this.CONSUME(T.Comma);
          const n = this.CONSUME2(T.Identifier);
          this.ACTION(() => names.push(this.ident(n)));
        },
      });
      this.OPTION2(() => this.CONSUME2(T.Comma));
    });
    this.CONSUME(T.RBrace);
    this.CONSUME(T.From);
    const str = this.CONSUME(T.StringLiteral);
    return this.ACTION(() => ({
      kind: "Import" as const, names,
      from: { kind: "String" as const, value: unquote(str.image), span: this.sp(str, str) },
      span: this.sp(kw),
    }));
  });

  private constDecl = this.RULE("constDecl", (): A.ConstDecl => {
    const kw = this.CONSUME(T.Const);
    const name = this.CONSUME(T.Identifier);
    this.CONSUME(T.Equals);
    const value = this.SUBRULE(this.expression);
    return this.ACTION(() => ({ kind: "Const" as const, name: this.ident(name), value: value ?? this.errorExpr(), span: this.sp(kw) }));
  });

  private layerDecl = this.RULE("layerDecl", (): A.LayerDecl => {
    const kw = this.OR([
      { ALT: () => this.CONSUME(T.Layer) },
      { ALT: () => this.CONSUME(T.Model) },
    ]);
    const name = this.CONSUME(T.Identifier);
    const params = this.SUBRULE(this.paramList);
    const lostBefore = this.lostStatements;
    const body = this.SUBRULE(this.block);
    return this.ACTION(() => ({
      kind: (kw.tokenType === T.Model ? "Model" : "Layer") as "Layer" | "Model",
      name: this.ident(name),
      params: params ?? [],
      body: body?.stmts ?? [],
      endSpan: body?.end ?? this.sp(this.LA(0), this.LA(0)),
      span: this.sp(kw),
      ...(!body || this.lostStatements > lostBefore ? { recovered: true } : {}),
    }));
  });

  private graphDecl = this.RULE("graphDecl", (): A.GraphDecl => {
    const kw = this.CONSUME(T.Graph);
    const name = this.CONSUME(T.Identifier);
    const params = this.SUBRULE(this.paramList);
    this.CONSUME(T.Equals);
    const topology = this.SUBRULE(this.expression);
    return this.ACTION(() => ({
      kind: "Graph" as const, name: this.ident(name), params: params ?? [],
      topology: topology ?? this.errorExpr(), span: this.sp(kw),
    }));
  });

  private paramList = this.RULE("paramList", (): A.Param[] => {
    const params: A.Param[] = [];
    this.CONSUME(T.LParen);
    this.OPTION(() => {
      const p = this.SUBRULE(this.param);
      this.ACTION(() => { if (p) params.push(p); });
      this.MANY({
        GATE: () => !this.isNext(T.RParen, 2),
        DEF: () => {
          this.CONSUME(T.Comma);
          const q = this.SUBRULE2(this.param);
          this.ACTION(() => { if (q) params.push(q); });
        },
      });
      this.OPTION2(() => this.CONSUME2(T.Comma));
    });
    this.CONSUME(T.RParen);
    return params;
  });

  private param = this.RULE("param", (): A.Param => {
    const name = this.CONSUME(T.Identifier);
    return this.OR([
      {
        ALT: () => {
          this.CONSUME(T.Colon);
          const dims = this.SUBRULE(this.dimList);
          return this.ACTION(() => ({ kind: "TensorParam" as const, name: this.ident(name), dims: dims ?? [], span: this.sp(name) }));
        },
      },
      {
        ALT: () => {
          this.CONSUME(T.Equals);
          const def = this.SUBRULE(this.expression);
          return this.ACTION(() => ({ kind: "HyperParam" as const, name: this.ident(name), default: def ?? this.errorExpr(), span: this.sp(name) }));
        },
      },
      { ALT: () => this.ACTION(() => ({ kind: "HyperParam" as const, name: this.ident(name), default: undefined, span: this.sp(name) })) },
    ]);
  });

  private dimList = this.RULE("dimList", (): A.Expr[] => {
    const dims: A.Expr[] = [];
    this.CONSUME(T.LBracket);
    this.OPTION(() => {
      const d = this.SUBRULE(this.additive);
      this.ACTION(() => { if (d) dims.push(d); });
      this.MANY({
        GATE: () => !this.isNext(T.RBracket, 2),
        DEF: () => {
          this.CONSUME(T.Comma);
          const e = this.SUBRULE2(this.additive);
          this.ACTION(() => { if (e) dims.push(e); });
        },
      });
      this.OPTION2(() => this.CONSUME2(T.Comma));
    });
    this.CONSUME(T.RBracket);
    return dims;
  });

  // ---- statements ----

  /** Whether the next tokens start a statement (LL(2)); anything else in a block is skipped by recovery. */
  private startsStatement(): boolean {
    const tt = this.LA(1).tokenType;
    if (tt === T.Let || tt === T.Iterate || tt === T.Repeat || tt === T.Return) return true;
    if ((tt === T.Experts || tt === T.Shared || tt === T.Router || tt === T.Loss || tt === T.Report) && this.isNameAt(2)) return true;
    return this.isNameAt(1) && this.isNext(T.Equals, 2);
  }

  private block = this.RULE("block", (): { stmts: A.Stmt[]; end: A.Span } => {
    const stmts: A.Stmt[] = [];
    this.CONSUME(T.LBrace);
    // The gate makes recovery skip tokens that cannot start a statement (one error for the run)
    // instead of failing inside `statement` and dropping the rest of the declaration.
    this.MANY({
      GATE: () => this.startsStatement(),
      DEF: () => {
        const s = this.SUBRULE(this.statement);
        this.ACTION(() => { if (s) stmts.push(s); else this.lostStatements++; });
      },
    });
    const close = this.CONSUME(T.RBrace);
    return this.ACTION(() => {
      if (Number.isFinite(close.startOffset)) return { stmts, end: this.sp(close, close) };
      // A `}` inserted by recovery (see canRecoverWithSingleTokenInsertion): empty, where the next
      // token starts. Statements meant for the enclosing body may have landed in this one.
      this.lostStatements++;
      const next = this.LA(1);
      const at = Number.isFinite(next.startOffset) ? next.startOffset : this.sp(this.LA(0), this.LA(0)).end;
      return { stmts, end: { start: at, end: at } };
    });
  });

  /**
   * Chevrotain inserts a missing token only when what follows fits the rest of the current rule;
   * a block's `}` ends its rule, so a `}` missing before the next declaration (or the end of the
   * file) would make recovery drop the whole layer. Insert it there instead: one error, and the
   * body is kept and checked.
   */
  canRecoverWithSingleTokenInsertion(expected: TokenType, follows: TokenType[]): boolean {
    if (expected === T.RBrace) {
      const next = this.LA(1).tokenType;
      if (next === EOF || next === T.Layer || next === T.Model || next === T.Graph || next === T.Const || next === T.Import) return true;
    }
    const base = EmbeddedActionsParser.prototype as unknown as { canRecoverWithSingleTokenInsertion(e: TokenType, f: TokenType[]): boolean };
    return base.canRecoverWithSingleTokenInsertion.call(this, expected, follows);
  }

  private statement = this.RULE("statement", (): A.Stmt => {
    return this.OR([
      { GATE: () => this.isNameAt(2), ALT: () => this.SUBRULE(this.poolDecl) },
      { GATE: () => this.isNameAt(2), ALT: () => this.SUBRULE(this.sharedDecl) },
      { GATE: () => this.isNameAt(2), ALT: () => this.SUBRULE(this.routerDecl) },
      { ALT: () => this.SUBRULE(this.letStmt) },
      { ALT: () => this.SUBRULE(this.iterateStmt) },
      { ALT: () => this.SUBRULE(this.repeatStmt) },
      { GATE: () => this.isNameAt(2), ALT: () => this.SUBRULE(this.lossStmt) },
      { GATE: () => this.isNameAt(2), ALT: () => this.SUBRULE(this.reportStmt) },
      { ALT: () => this.SUBRULE(this.returnStmt) },
      { ALT: () => this.SUBRULE(this.assignStmt) },
    ]);
  }, { recoveryValueFunc: () => undefined as unknown as A.Stmt });

  private poolDecl = this.RULE("poolDecl", (): A.PoolDecl => {
    const kw = this.CONSUME(T.Experts);
    return this.SUBRULE(this.poolRest, { ARGS: [kw, false] });
  });
  private sharedDecl = this.RULE("sharedDecl", (): A.PoolDecl => {
    const kw = this.CONSUME(T.Shared);
    return this.SUBRULE(this.poolRest, { ARGS: [kw, true] });
  });
  private poolRest = this.RULE("poolRest", (kw: IToken, shared: boolean): A.PoolDecl => {
    const name = this.CONSUME(T.Identifier);
    let count: A.Expr | undefined;
    this.OPTION(() => {
      this.CONSUME(T.LBracket);
      count = this.SUBRULE(this.expression);
      this.CONSUME(T.RBracket);
    });
    this.CONSUME(T.Equals);
    const expert = this.SUBRULE2(this.expression);
    let split: A.Expr | undefined;
    this.OPTION2({
      GATE: () => !this.isNext(T.Equals, 2),
      DEF: () => {
        this.CONSUME(T.Split);
        split = this.SUBRULE(this.unary);
      },
    });
    return this.ACTION(() => ({
      kind: "PoolDecl" as const, shared, name: this.ident(name), count,
      expert: expert ?? this.errorExpr(), split, keywordSpan: this.sp(kw, kw), span: this.sp(kw),
    }));
  });

  private routerDecl = this.RULE("routerDecl", (): A.RouterDecl => {
    const kw = this.CONSUME(T.Router);
    const name = this.CONSUME(T.Identifier);
    this.CONSUME(T.Equals);
    const pipeline = this.SUBRULE(this.expression);
    let per: A.Ident | undefined;
    this.OPTION({
      GATE: () => !this.isNext(T.Equals, 2),
      DEF: () => {
        this.CONSUME(T.Per);
        const u = this.CONSUME2(T.Identifier);
        this.ACTION(() => { per = this.ident(u); });
      },
    });
    return this.ACTION(() => ({
      kind: "RouterDecl" as const, name: this.ident(name), pipeline: pipeline ?? this.errorExpr(), per,
      keywordSpan: this.sp(kw, kw), span: this.sp(kw),
    }));
  });

  private letStmt = this.RULE("letStmt", (): A.LetStmt => {
    const kw = this.CONSUME(T.Let);
    const name = this.CONSUME(T.Identifier);
    this.CONSUME(T.Equals);
    const value = this.SUBRULE(this.expression);
    return this.ACTION(() => ({ kind: "Let" as const, name: this.ident(name), value: value ?? this.errorExpr(), span: this.sp(kw) }));
  });

  private assignStmt = this.RULE("assignStmt", (): A.AssignStmt => {
    const name = this.CONSUME(T.Identifier);
    this.CONSUME(T.Equals);
    const value = this.SUBRULE(this.expression);
    return this.ACTION(() => ({ kind: "Assign" as const, name: this.ident(name), value: value ?? this.errorExpr(), span: this.sp(name) }));
  });

  private iterateStmt = this.RULE("iterateStmt", (): A.IterateStmt => {
    const kw = this.CONSUME(T.Iterate);
    const count = this.SUBRULE(this.additive);
    const body = this.SUBRULE(this.block);
    return this.ACTION(() => ({
      kind: "Iterate" as const, count: count ?? this.errorExpr(), body: body?.stmts ?? [],
      keywordSpan: this.sp(kw, kw), span: this.sp(kw),
    }));
  });

  private repeatStmt = this.RULE("repeatStmt", (): A.RepeatStmt => {
    const kw = this.CONSUME(T.Repeat);
    const count = this.SUBRULE(this.additive);
    this.CONSUME(T.As);
    const name = this.CONSUME(T.Identifier);
    let from: A.Expr | undefined;
    this.OPTION(() => {
      this.CONSUME(T.From);
      from = this.SUBRULE2(this.additive);
    });
    const body = this.SUBRULE(this.block);
    return this.ACTION(() => ({
      kind: "Repeat" as const, count: count ?? this.errorExpr(), as: this.ident(name), from,
      body: body?.stmts ?? [], keywordSpan: this.sp(kw, kw), span: this.sp(kw),
    }));
  });

  private lossStmt = this.RULE("lossStmt", (): A.LossStmt => {
    const kw = this.CONSUME(T.Loss);
    const call = this.SUBRULE(this.callOrName);
    return this.ACTION(() => ({ kind: "Loss" as const, call, span: this.sp(kw) }));
  });

  private reportStmt = this.RULE("reportStmt", (): A.ReportStmt => {
    const kw = this.CONSUME(T.Report);
    const names: A.Ident[] = [];
    const first = this.CONSUME(T.Identifier);
    this.ACTION(() => names.push(this.ident(first)));
    this.MANY(() => {
      this.CONSUME(T.Comma);
      const n = this.CONSUME2(T.Identifier);
      this.ACTION(() => names.push(this.ident(n)));
    });
    return this.ACTION(() => ({ kind: "Report" as const, names, span: this.sp(kw) }));
  });

  private returnStmt = this.RULE("returnStmt", (): A.ReturnStmt => {
    const kw = this.CONSUME(T.Return);
    const value = this.OR([
      { ALT: () => this.SUBRULE(this.record) },
      { ALT: () => this.SUBRULE(this.expression) },
    ]);
    return this.ACTION(() => ({ kind: "Return" as const, value: value ?? this.errorExpr(), span: this.sp(kw) }));
  });

  private record = this.RULE("record", (): A.RecordExpr => {
    const open = this.CONSUME(T.LBrace);
    const fields: A.RecordExpr["fields"] = [];
    this.OPTION(() => {
      const f = this.SUBRULE(this.recordField);
      this.ACTION(() => { if (f) fields.push(f); });
      this.MANY({
        GATE: () => !this.isNext(T.RBrace, 2),
        DEF: () => {
          this.CONSUME(T.Comma);
          const g = this.SUBRULE2(this.recordField);
          this.ACTION(() => { if (g) fields.push(g); });
        },
      });
      this.OPTION2(() => this.CONSUME2(T.Comma));
    });
    this.CONSUME(T.RBrace);
    return this.ACTION(() => ({ kind: "Record" as const, fields, span: this.sp(open) }));
  });

  private recordField = this.RULE("recordField", (): A.RecordExpr["fields"][number] => {
    const name = this.CONSUME(T.Identifier);
    this.CONSUME(T.Colon);
    const value = this.SUBRULE(this.expression);
    return this.ACTION(() => ({ name: this.ident(name), value: value ?? this.errorExpr(), span: this.sp(name) }));
  });

  // ---- expressions, loosest first ----

  public expression = this.RULE("expression", (): A.Expr => {
    let left = this.SUBRULE(this.additive);
    this.MANY(() => {
      const op = this.OR([
        { ALT: () => this.CONSUME(T.PipeForward) },
        { ALT: () => this.CONSUME(T.Arrow) },
      ]);
      const right = this.SUBRULE2(this.additive);
      this.ACTION(() => { left = this.binary(op, left, right); });
    });
    return left;
  }, { recoveryValueFunc: () => undefined as unknown as A.Expr });

  private additive = this.RULE("additive", (): A.Expr => {
    let left = this.SUBRULE(this.multiplicative);
    this.MANY(() => {
      const op = this.OR([
        { ALT: () => this.CONSUME(T.Plus) },
        { ALT: () => this.CONSUME(T.Minus) },
      ]);
      const right = this.SUBRULE2(this.multiplicative);
      this.ACTION(() => { left = this.binary(op, left, right); });
    });
    return left;
  });

  private multiplicative = this.RULE("multiplicative", (): A.Expr => {
    let left = this.SUBRULE(this.unary);
    this.MANY(() => {
      const op = this.OR([
        { ALT: () => this.CONSUME(T.Star) },
        { ALT: () => this.CONSUME(T.Slash) },
      ]);
      const right = this.SUBRULE2(this.unary);
      this.ACTION(() => { left = this.binary(op, left, right); });
    });
    return left;
  });

  private unary = this.RULE("unary", (): A.Expr => {
    return this.OR([
      {
        ALT: () => {
          const m = this.CONSUME(T.Minus);
          const operand = this.SUBRULE(this.unary);
          return this.ACTION(() => {
            const o = operand ?? this.errorExpr();
            return { kind: "Unary" as const, op: "-" as const, operand: o, span: this.join(this.sp(m, m), o.span) };
          });
        },
      },
      { ALT: () => this.SUBRULE(this.primary) },
    ]);
  });

  private primary = this.RULE("primary", (): A.Expr => {
    return this.OR([
      {
        ALT: () => {
          const t = this.CONSUME(T.FloatLiteral);
          return this.ACTION(() => numberLit(t, true, this.sp(t, t)));
        },
      },
      {
        ALT: () => {
          const t = this.CONSUME(T.IntegerLiteral);
          return this.ACTION(() => numberLit(t, false, this.sp(t, t)));
        },
      },
      {
        ALT: () => {
          const t = this.CONSUME(T.StringLiteral);
          return this.ACTION(() => ({ kind: "String" as const, value: unquote(t.image), span: this.sp(t, t) }));
        },
      },
      {
        ALT: () => {
          const t = this.OR2([
            { ALT: () => this.CONSUME(T.True) },
            { ALT: () => this.CONSUME(T.False) },
          ]);
          return this.ACTION(() => ({ kind: "Bool" as const, value: t.tokenType === T.True, span: this.sp(t, t) }));
        },
      },
      { ALT: () => this.SUBRULE(this.callOrName) },
      { ALT: () => this.SUBRULE(this.list) },
      {
        ALT: () => {
          this.CONSUME(T.LParen);
          const e = this.SUBRULE(this.expression);
          this.CONSUME(T.RParen);
          return this.ACTION(() => e ?? this.errorExpr());
        },
      },
    ]);
  });

  private callOrName = this.RULE("callOrName", (): A.Call => {
    const name = this.CONSUME(T.Identifier);
    let args: A.Arg[] | undefined;
    this.OPTION(() => {
      this.CONSUME(T.LParen);
      this.ACTION(() => { args = []; });
      this.OPTION2(() => {
        const a = this.SUBRULE(this.argument);
        this.ACTION(() => { if (a) args!.push(a); });
        this.MANY({
          GATE: () => !this.isNext(T.RParen, 2),
          DEF: () => {
            this.CONSUME(T.Comma);
            const b = this.SUBRULE2(this.argument);
            this.ACTION(() => { if (b) args!.push(b); });
          },
        });
        this.OPTION3(() => this.CONSUME2(T.Comma));
      });
      this.CONSUME(T.RParen);
    });
    return this.ACTION(() => ({ kind: "Call" as const, callee: this.ident(name), args, span: this.sp(name) }));
  });

  private argument = this.RULE("argument", (): A.Arg => {
    return this.OR([
      {
        GATE: () => this.isNext(T.Equals, 2),
        ALT: () => {
          const n = this.CONSUME(T.Identifier);
          this.CONSUME(T.Equals);
          this.ACTION(() => this.namedArgs.push(n));
          const v = this.SUBRULE(this.expression);
          return this.ACTION(() => {
            this.namedArgs.pop();
            return { name: this.ident(n), value: v ?? this.errorExpr(), span: this.sp(n) };
          });
        },
      },
      {
        ALT: () => {
          const v = this.SUBRULE2(this.expression);
          return this.ACTION(() => {
            const val = v ?? this.errorExpr();
            return { name: undefined, value: val, span: val.span };
          });
        },
      },
    ]);
  }, {
    // `out = )`: keep the named argument with an error value, so that the call is not also
    // reported for a missing `out`.
    recoveryValueFunc: () => {
      const n = this.namedArgs.pop();
      if (!n) return undefined as unknown as A.Arg;
      const at = this.sp(n, n);
      return { name: this.ident(n), value: { kind: "ErrorExpr" as const, span: { start: at.end, end: at.end } }, span: at };
    },
  });

  private list = this.RULE("list", (): A.ListExpr => {
    const open = this.CONSUME(T.LBracket);
    const items: A.Expr[] = [];
    this.OPTION(() => {
      const a = this.SUBRULE(this.expression);
      this.ACTION(() => { if (a) items.push(a); });
      this.MANY({
        GATE: () => !this.isNext(T.RBracket, 2),
        DEF: () => {
          this.CONSUME(T.Comma);
          const b = this.SUBRULE2(this.expression);
          this.ACTION(() => { if (b) items.push(b); });
        },
      });
      this.OPTION2(() => this.CONSUME2(T.Comma));
    });
    this.CONSUME(T.RBracket);
    return this.ACTION(() => ({ kind: "List" as const, items, span: this.sp(open) }));
  });

  private binary(op: IToken, left: A.Expr | undefined, right: A.Expr | undefined): A.Expr {
    const l = left ?? this.errorExpr();
    const r = right ?? this.errorExpr();
    return { kind: "Binary", op: op.image as A.BinaryOp, left: l, right: r, opSpan: this.sp(op, op), span: this.join(l.span, r.span) };
  }
}

function numberLit(t: IToken, isFloat: boolean, span: A.Span): A.NumberLit {
  return { kind: "Number", value: Number(t.image.replace(/_/g, "")), isFloat, text: t.image, span };
}

function unquote(image: string): string {
  try {
    return JSON.parse(image) as string;
  } catch {
    return image.slice(1, -1);
  }
}

/** One shared instance: chevrotain parsers are expensive to build and reusable (DESIGN.md). */
let instance: MoeParser | undefined;
export function sharedParser(): MoeParser {
  instance ??= new MoeParser();
  return instance;
}

export type { IRecognitionException };
