import { QueryClientProvider } from "@tanstack/react-query";
import { StrictMode } from "react";
import { createRoot } from "react-dom/client";
import "uplot/dist/uPlot.min.css";
import "./styles.css";
import { App } from "./App";
import { api, createQueryClient } from "./lib/api";

// A call refused for want of a session while signed in (it expired, or was ended elsewhere): ask
// again who is signed in, which leads to the sign-in page.
const queryClient = createQueryClient(() => {
  if (queryClient.getQueryData(["auth", "me"])) void queryClient.resetQueries({ queryKey: ["auth"] });
});
// Who is signed in and their sites, asked in the same tick: one HTTP request (the client batches).
void queryClient.prefetchQuery({ queryKey: ["auth", "me"], queryFn: () => api.auth.me.query(), retry: false });
void queryClient.prefetchQuery({ queryKey: ["sites", "list"], queryFn: () => api.sites.list.query(), retry: false });

createRoot(document.getElementById("root")!).render(
  <StrictMode>
    <QueryClientProvider client={queryClient}>
      <App />
    </QueryClientProvider>
  </StrictMode>,
);
