import type { ComponentChildren, JSX, TargetedMouseEvent } from 'preact';
import { useId } from 'preact/hooks';
import { ApiError } from '../api';
import { statusLabel } from '../format';
import { BASE, onLinkClick } from '../router';
import type { DeliveryStatus, OrderStatus } from '../types';

/** A link inside the app (`to` is a path under /app). */
export function Link({
  to,
  children,
  onClick,
  ...rest
}: {
  to: string;
  children: ComponentChildren;
  onClick?: (event: TargetedMouseEvent<HTMLAnchorElement>) => void;
  class?: string;
  title?: string;
  'aria-current'?: 'page' | undefined;
  'aria-label'?: string;
}) {
  return (
    <a
      href={`${BASE}${to}`}
      {...rest}
      onClick={(event) => {
        onClick?.(event);
        onLinkClick(event);
      }}
    >
      {children}
    </a>
  );
}

/**
 * A labelled input with its error underneath, tied together for screen
 * readers (aria-describedby, aria-invalid). `error` is the API's message for
 * this field.
 */
export function Field({
  label,
  error,
  hint,
  children,
}: {
  label: string;
  error?: string | undefined;
  hint?: string;
  children: (props: { id: string; 'aria-invalid': boolean; 'aria-describedby'?: string }) => JSX.Element;
}) {
  const id = useId();
  const describedBy = [error ? `${id}-error` : '', hint ? `${id}-hint` : ''].filter(Boolean).join(' ');
  return (
    <div class={`field${error ? ' field--invalid' : ''}`}>
      <label for={id}>{label}</label>
      {children({ id, 'aria-invalid': Boolean(error), ...(describedBy ? { 'aria-describedby': describedBy } : {}) })}
      {hint && (
        <p class="field__hint" id={`${id}-hint`}>
          {hint}
        </p>
      )}
      {error && (
        <p class="field__error" id={`${id}-error`} role="alert">
          {error}
        </p>
      )}
    </div>
  );
}

/** An error for people: the API's detail, never a raw document. */
export function ErrorMessage({ error }: { error: unknown }) {
  if (!error) return null;
  const message =
    error instanceof ApiError
      ? Object.keys(error.fields).length
        ? 'Please correct the fields marked above.'
        : error.message
      : error instanceof Error
        ? error.message
        : 'Something went wrong.';
  return (
    <div class="message message--error" role="alert">
      {message}
    </div>
  );
}

export function Notice({ children, tone = 'info' }: { children: ComponentChildren; tone?: 'info' | 'success' }) {
  return (
    <div class={`message message--${tone}`} role="status">
      {children}
    </div>
  );
}

export function StatusBadge({ status }: { status: OrderStatus | DeliveryStatus }) {
  return <span class={`badge badge--${status}`}>{statusLabel(status)}</span>;
}

export function ProgressBar({ value, label }: { value: number; label: string }) {
  const rounded = Math.round(value);
  return (
    <div class="progress">
      <progress max={100} value={rounded} aria-label={label} />
      <span class="progress__value" data-testid="progress">
        {rounded}%
      </span>
    </div>
  );
}

export function Pagination({
  page,
  totalPages,
  onPage,
  label,
}: {
  page: number;
  totalPages: number;
  onPage: (page: number) => void;
  label: string;
}) {
  if (totalPages <= 1) return null;
  return (
    <nav class="pagination" aria-label={label}>
      <button type="button" class="button button--ghost" disabled={page <= 1} onClick={() => onPage(page - 1)}>
        Previous
      </button>
      <span aria-current="page">
        Page {page} of {totalPages}
      </span>
      <button type="button" class="button button--ghost" disabled={page >= totalPages} onClick={() => onPage(page + 1)}>
        Next
      </button>
    </nav>
  );
}

export function Loading({ what = 'Loading' }: { what?: string }) {
  return (
    <p class="loading" role="status">
      {what}…
    </p>
  );
}
