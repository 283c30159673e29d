/** How a service name becomes the env var its callers read: `my-svc` → `MY_SVC_URL`. */
export function envVarName(service: string): string {
  return `${service.toUpperCase().replace(/-/g, '_')}_URL`;
}
