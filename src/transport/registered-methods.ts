import {
  type ConnectRouter,
  createMethodImplSpec,
  createServiceImplSpec,
  type MethodImplSpec,
} from "@connectrpc/connect";
import type { Routes } from "./routes.js";

/**
 * Every method the routes register, with its implementation: what the direct gRPC path serves and
 * what the security suite walks, read from the routes themselves rather than from a second list.
 */
export function registeredMethods(routes: Routes): MethodImplSpec[] {
  const methods: MethodImplSpec[] = [];
  const router: ConnectRouter = {
    handlers: [],
    service(service, implementation) {
      methods.push(...Object.values(createServiceImplSpec(service, implementation).methods));
      return router;
    },
    rpc(method, implementation) {
      methods.push(createMethodImplSpec(method, implementation));
      return router;
    },
  };
  routes(router);
  return methods;
}

/** A method's request path, e.g. `/realchat.profile.v1.ProfileApi/GetProfile`. */
export function pathOf(method: MethodImplSpec["method"]): string {
  return `/${method.parent.typeName}/${method.name}`;
}
