// Errors of the rewriter (SPEC §8.2), with lol-html v3.0.1's messages.
export { SelectorError, type SelectorErrorKind } from './selectors.ts';

export type TagNameErrorKind = 'Empty' | 'InvalidFirstCharacter' | 'ForbiddenCharacter' | 'UnencodableCharacter';
export class TagNameError extends TypeError {
  readonly kind: TagNameErrorKind;
  constructor(kind: TagNameErrorKind, char = '') {
    super({
      Empty: "Tag name can't be empty.",
      InvalidFirstCharacter: 'The first character of the tag name should be an ASCII alphabetical character.',
      ForbiddenCharacter: `\`${char}\` character is forbidden in the tag name`,
      UnencodableCharacter: "The tag name contains a character that can't be represented in the document's character encoding.",
    }[kind]);
    this.name = 'TagNameError';
    this.kind = kind;
  }
}

export type AttributeNameErrorKind = 'Empty' | 'ForbiddenCharacter' | 'UnencodableCharacter';
export class AttributeNameError extends TypeError {
  readonly kind: AttributeNameErrorKind;
  constructor(kind: AttributeNameErrorKind, char = '') {
    super({
      Empty: "Attribute name can't be empty.",
      ForbiddenCharacter: `\`${char}\` character is forbidden in the attribute name`,
      UnencodableCharacter: "The attribute name contains a character that can't be represented in the document's character encoding.",
    }[kind]);
    this.name = 'AttributeNameError';
    this.kind = kind;
  }
}

export type CommentTextErrorKind = 'CommentClosingSequence' | 'UnencodableCharacter';
export class CommentTextError extends TypeError {
  readonly kind: CommentTextErrorKind;
  constructor(kind: CommentTextErrorKind) {
    super(kind === 'CommentClosingSequence'
      ? "Comment text shouldn't contain a comment-closing sequence."
      : "Comment text contains a character that can't be represented in the document's character encoding.");
    this.name = 'CommentTextError';
    this.kind = kind;
  }
}

export class MemoryLimitExceededError extends Error {
  constructor() {
    super('The memory limit has been exceeded.');
    this.name = 'MemoryLimitExceededError';
  }
}

export class ParsingAmbiguityError extends Error {
  readonly tagName: string;
  constructor(tagName: string) {
    super(
      `The parser has encountered a text content tag (\`<${tagName}>\`) in the context where it is ambiguous whether this tag ` +
      'should be ignored or not. And, thus, it is unclear whether consequent content should be parsed as raw text or HTML markup.' +
      '\n\nThis error occurs due to the limited capabilities of the streaming parsing. However, almost all of the cases of this ' +
      'error are caused by a non-conforming markup (e.g. a `<script>` element in `<select>` element).',
    );
    this.name = 'ParsingAmbiguityError';
    this.tagName = tagName;
  }
}

/** A rewritable unit (Element, TextChunk, ...) used after its handler completed. */
export class ExpiredTokenError extends Error {
  constructor() {
    super('This content token is no longer valid. Content tokens are only valid during the execution of the relevant content handler.');
    this.name = 'ExpiredTokenError';
  }
}

/** The rewriter was used after an error (or after end()). */
export class RewriterPoisonedError extends Error {
  constructor(cause?: unknown) {
    super('The rewriter can no longer be used: a previous write() or end() failed or end() was already called.', { cause });
    this.name = 'RewriterPoisonedError';
  }
}
